package sqlconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Dialect is the SQL a database speaks, as far as scripts and placeholders
// care.
type Dialect string

const (
	PostgreSQL Dialect = "postgresql" // PostgreSQL and Amazon Redshift
	MySQL      Dialect = "mysql"      // MySQL and MariaDB
	SQLite     Dialect = "sqlite"
)

// Database is how to connect to one database of a pipeline. It holds a
// password, which none of its methods shows: String, GoString and
// LogValue print the connection without it, and errors never carry it.
// The zero Database is not usable; make one with [FromObject] or
// [Resolver.FromObject].
type Database struct {
	typ      string // pipeline object type
	engine   string // JDBC subprotocol: postgresql, redshift, mysql, mariadb, sqlite
	dialect  Dialect
	hosts    []hostPort
	name     string // database name, or SQLite path
	user     string
	password string
	secrets  []string // every password-like value, to scrub from driver errors
	ignored  []string // properties culvert does not honour

	pg     []prop // PostgreSQL settings beyond host, port, user, dbname
	my     mysqlOptions
	sqlite []string // SQLite pragmas, "name(value)"
}

// Resolver turns database objects into [Database] values. Its maps stand
// in for the AWS APIs that an RdsDatabase's rdsInstanceId and a
// RedshiftDatabase's clusterId would be looked up in: each maps an id to a
// JDBC connection string (host, port and optionally database and
// properties; the object supplies the credentials). The zero Resolver
// knows no ids.
type Resolver struct {
	RDSInstances     map[string]string // rdsInstanceId → jdbc:mysql://… or jdbc:postgresql://…
	RedshiftClusters map[string]string // clusterId → jdbc:redshift://…
}

// FromObject is [Resolver.FromObject] with the zero Resolver.
func FromObject(fields map[string][]string) (Database, error) {
	return Resolver{}.FromObject(fields)
}

// FromObject reads a database object's fields (key → values, as flattened
// in a task object): a JdbcDatabase, RdsDatabase or RedshiftDatabase, or a
// MySqlDataNode that carries its own connectionString, username and
// *password. A SqlDataNode, or a MySqlDataNode with a database field, is
// resolved by calling FromObject on the object its database field names.
//
// It returns an error that names the field at fault when the object is not
// a database, lacks what its type needs to connect, has several values for
// a single-valued field, or has a connection string or property culvert
// cannot use. Neither its errors nor the Database's methods show the value
// of a field whose key begins with "*", or any other password.
func (r Resolver) FromObject(fields map[string][]string) (d Database, err error) {
	var secrets []string
	for k, vs := range fields {
		if strings.HasPrefix(k, "*") {
			secrets = append(secrets, vs...)
		}
	}
	defer func() {
		if err != nil {
			err = scrub(err, secrets)
		}
	}()
	one := func(key string) (string, error) {
		switch vs := fields[key]; len(vs) {
		case 0:
			return "", nil
		case 1:
			return vs[0], nil
		default:
			return "", fmt.Errorf("field %s has %d values; it takes one", key, len(vs))
		}
	}
	var f struct{ typ, cs, user, password, dbName, rdsID, clusterID string }
	for _, x := range []struct {
		key string
		to  *string
	}{
		{"type", &f.typ}, {"connectionString", &f.cs}, {"username", &f.user}, {"*password", &f.password},
		{"databaseName", &f.dbName}, {"rdsInstanceId", &f.rdsID}, {"clusterId", &f.clusterID},
	} {
		if *x.to, err = one(x.key); err != nil {
			return Database{}, err
		}
	}

	switch f.typ {
	case "JdbcDatabase":
		if f.cs == "" {
			return Database{}, errors.New("JdbcDatabase has no connectionString")
		}
	case "MySqlDataNode":
		if f.cs == "" {
			return Database{}, errors.New("MySqlDataNode has no connectionString; give it one, or a database that has")
		}
	case "RdsDatabase":
		if f.rdsID == "" {
			return Database{}, errors.New("RdsDatabase has no rdsInstanceId")
		}
		cs, ok := r.RDSInstances[f.rdsID]
		if !ok {
			return Database{}, fmt.Errorf("RdsDatabase rdsInstanceId %q is unknown: culvert does not call the RDS API, so the task runner must be given a JDBC URL for that instance (or use a JdbcDatabase with a connectionString)", f.rdsID)
		}
		f.cs = cs
	case "RedshiftDatabase":
		switch {
		case f.cs != "" && f.clusterID != "":
			return Database{}, errors.New("RedshiftDatabase has both clusterId and connectionString; it takes one of them")
		case f.clusterID != "":
			cs, ok := r.RedshiftClusters[f.clusterID]
			if !ok {
				return Database{}, fmt.Errorf("RedshiftDatabase clusterId %q is unknown: culvert does not call the Redshift API, so give the database a connectionString (jdbc:redshift://host:5439/db), or give the task runner a JDBC URL for that cluster", f.clusterID)
			}
			f.cs = cs
		case f.cs == "":
			return Database{}, errors.New("RedshiftDatabase has neither clusterId nor connectionString")
		}
	case "":
		return Database{}, errors.New("object has no type")
	case "SqlDataNode":
		return Database{}, errors.New("SqlDataNode is not a database: connect to the object its database field names")
	default:
		return Database{}, fmt.Errorf("type %s is not a database (want JdbcDatabase, RdsDatabase, RedshiftDatabase or a MySqlDataNode with a connectionString)", f.typ)
	}

	u, err := parseJDBC(f.cs)
	if err != nil {
		return Database{}, err
	}
	switch {
	case f.typ == "MySqlDataNode" && u.sub != "mysql" && u.sub != "mariadb":
		return Database{}, fmt.Errorf("MySqlDataNode connectionString is jdbc:%s:, not jdbc:mysql:", u.sub)
	case f.typ == "RedshiftDatabase" && u.sub != "redshift" && u.sub != "postgresql":
		return Database{}, fmt.Errorf("RedshiftDatabase connectionString is jdbc:%s:, not jdbc:redshift: or jdbc:postgresql:", u.sub)
	}

	d = Database{typ: f.typ, engine: u.sub, hosts: u.hosts, name: u.database}
	// The object's own fields say more than the connection string, so they
	// win: jdbcProperties over the URL's properties, username and
	// *password over the URL's and its user and password properties,
	// databaseName over the URL's database.
	props := u.props
	for i, p := range fields["jdbcProperties"] {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			// The value is not quoted: it might be a password.
			return Database{}, fmt.Errorf("jdbcProperties value %d is not of the form name=value", i+1)
		}
		props = append(props, prop{strings.TrimSpace(name), value})
	}
	byName := map[string]string{} // lower-case name → last value
	var order []string
	for _, p := range props {
		n := strings.ToLower(p.name)
		if _, seen := byName[n]; !seen {
			order = append(order, p.name)
		}
		byName[n] = p.value
	}
	d.user = firstNonEmpty(f.user, u.user, byName["user"])
	d.password = firstNonEmpty(f.password, u.password, byName["password"])
	d.secrets = append(secrets, u.password, byName["password"])
	if f.dbName != "" {
		d.name = f.dbName
	}
	delete(byName, "user")
	delete(byName, "password")

	var used map[string]bool
	switch u.sub {
	case "postgresql", "redshift":
		d.dialect = PostgreSQL
		used, err = d.postgresSettings(byName)
	case "mysql", "mariadb":
		d.dialect = MySQL
		if len(d.hosts) > 1 {
			return Database{}, errors.New("connectionString names several hosts; culvert's MySQL driver connects to one")
		}
		used, err = d.mysqlSettings(byName)
	case "sqlite":
		d.dialect = SQLite
		// A SQLite database is a file, named by the URL alone; it has no
		// host, user or password.
		d.hosts, d.user, d.password, d.name = nil, "", "", u.database
		used, err = d.sqliteSettings(byName)
	}
	if err != nil {
		return Database{}, err
	}
	for _, n := range order {
		ln := strings.ToLower(n)
		if _, isProp := byName[ln]; isProp && !used[ln] && !slices.Contains(d.ignored, n) {
			d.ignored = append(d.ignored, n)
		}
	}
	slices.Sort(d.ignored)
	return d, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Dialect returns the SQL dialect of the database.
func (d Database) Dialect() Dialect { return d.dialect }

// Redshift reports whether the database is Amazon Redshift (a
// RedshiftDatabase, or a jdbc:redshift: connection string), which speaks
// PostgreSQL's protocol with SQL of its own.
func (d Database) Redshift() bool { return d.engine == "redshift" || d.typ == "RedshiftDatabase" }

// Ignored returns the names of the JDBC properties (from the connection
// string and jdbcProperties) that culvert does not honour, sorted, so that
// the runner can say so.
func (d Database) Ignored() []string { return slices.Clone(d.ignored) }

// String describes the connection without its password, e.g.
// "JdbcDatabase postgresql://etl@db.example.com:5432/sales".
func (d Database) String() string {
	if d.dialect == SQLite {
		return fmt.Sprintf("%s sqlite:%s", d.typ, d.name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s://", d.typ, d.engine)
	if d.user != "" {
		b.WriteString(d.user + "@")
	}
	for i, h := range d.hosts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(net.JoinHostPort(h.host, strconv.Itoa(h.port)))
	}
	b.WriteString("/" + d.name)
	return b.String()
}

// GoString is String, so that %#v does not print the password field.
func (d Database) GoString() string { return "sqlconn.Database(" + d.String() + ")" }

// LogValue is String, for log/slog.
func (d Database) LogValue() slog.Value { return slog.StringValue(d.String()) }

// Open connects to the database: it returns a *sql.DB on which a first
// connection has succeeded, or an error saying why none could be made
// (a refused connection, a failed login, a missing database). The error
// names the database as [Database.String] does, without the password.
func (d Database) Open(ctx context.Context) (*sql.DB, error) {
	db, err := d.open()
	if err == nil {
		if err = db.PingContext(ctx); err != nil {
			db.Close()
		}
	}
	if err != nil {
		return nil, scrub(fmt.Errorf("connect to %s: %w", d, err), d.secrets)
	}
	return db, nil
}

func (d Database) open() (*sql.DB, error) {
	switch d.dialect {
	case PostgreSQL:
		return d.openPostgres()
	case MySQL:
		return d.openMySQL()
	case SQLite:
		return d.openSQLite()
	}
	return nil, errors.New("sqlconn: zero Database; make one with FromObject")
}

// scrub returns err with every secret (of 4 bytes or more; shorter ones
// would blot out ordinary words without protecting anything) replaced in
// its message. Errors are built not to hold secrets; this is the guard
// for drivers' messages, which culvert does not write.
func scrub(err error, secrets []string) error {
	var live []string
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(err.Error(), s) {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		return err
	}
	return &scrubbedError{err: err, secrets: live}
}

type scrubbedError struct {
	err     error
	secrets []string
}

func (e *scrubbedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "****")
	}
	return msg
}

func (e *scrubbedError) Unwrap() error { return e.err }
