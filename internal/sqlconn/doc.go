// Package sqlconn is how culvert's task runner reaches the databases of a
// pipeline (spec §3.3 "Databases" and the SqlDataNode and MySqlDataNode
// data nodes; §9.3 step 3): it reads a database object's fields into a
// [Database], opens it with a Go driver chosen by its JDBC connection
// string, and runs SqlActivity scripts on it ([SplitScript], [Rebind],
// [RunScript]).
//
// AWS's Task Runner is Java, so pipelines describe databases with JDBC
// URLs. Culvert maps them to Go drivers:
//
//	jdbc:postgresql://…, jdbc:redshift://…  github.com/jackc/pgx/v5 (stdlib)
//	jdbc:mysql://…, jdbc:mariadb://…        github.com/go-sql-driver/mysql
//	jdbc:sqlite:…                           modernc.org/sqlite
//
// Other subprotocols (Oracle, SQL Server) are refused by name. The host,
// port and database come from the URL; the object's databaseName,
// username and *password fields override the URL's database, user and
// password. JDBC properties come from the URL's query and from the
// repeatable jdbcProperties field ("name=value"), which wins; names match
// without regard to case. These are honoured, as the Java drivers mean
// them:
//
//	PostgreSQL, Redshift  user, password, ssl (true: verify-full),
//	                      sslmode, sslfactory=org.postgresql.ssl.NonValidatingFactory
//	                      (require), sslrootcert, sslcert, sslkey,
//	                      connectTimeout and loginTimeout (seconds),
//	                      ApplicationName, currentSchema (search_path),
//	                      options, targetServerType (target_session_attrs);
//	                      several hosts (h1:p1,h2:p2) are tried in turn.
//	                      Without ssl or sslmode, TLS is preferred.
//	MySQL, MariaDB        user, password, useSSL, requireSSL,
//	                      verifyServerCertificate, sslMode (MySQL's and
//	                      MariaDB's names), connectTimeout and socketTimeout
//	                      (milliseconds), allowPublicKeyRetrieval and
//	                      characterEncoding=utf8/utf8mb4 (what the driver
//	                      does anyway). Without them, TLS is preferred
//	                      (Connector/J 8's PREFERRED). One host only.
//	SQLite                busy_timeout (milliseconds, default 3000),
//	                      foreign_keys, journal_mode.
//
// Every other property is ignored and listed by [Database.Ignored]; the
// jdbcDriverClass and jdbcDriverJarUri fields, which name Java code, and
// a database's region are ignored too. An RdsDatabase or a RedshiftDatabase given by clusterId names
// something only AWS's APIs can find; a [Resolver] maps those ids to JDBC
// URLs, and without a mapping they are refused with an error saying so.
// docs/assumptions/0017-databases.md gives the reasons.
//
// A Database holds a password. It never shows it: not in String, %v, %#v
// or slog output, and not in any error of this package, which also
// scrubs it from drivers' messages.
//
// The package is imported by the runner; it must not import the store,
// queue or API packages (ARCHITECTURE.md §2). Its tests run against
// PostgreSQL through internal/pgtest and against SQLite files; MySQL is
// covered by the translation of its configuration only.
package sqlconn
