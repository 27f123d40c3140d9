package sqlconn

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// The JDBC properties each driver honours, by lower-cased name, are
// listed in doc.go; the translations below are the only place they are
// read. Each *Settings method returns the names it used, so that the rest
// can be reported by [Database.Ignored].

// taker returns a reader of props that records in used each name it
// finds, so that the properties no translation read can be reported.
func taker(props map[string]string, used map[string]bool) func(name string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := props[name]
		if ok {
			used[name] = true
		}
		return v, ok
	}
}

// postgresSettings translates pgJDBC's properties into libpq-style
// settings that pgx reads.
func (d *Database) postgresSettings(props map[string]string) (map[string]bool, error) {
	used := map[string]bool{}
	take := taker(props, used)
	// pgJDBC's default is prefer; ssl=true means verify-full unless an
	// sslmode says otherwise, and its NonValidatingFactory means TLS
	// without verification.
	sslmode := "prefer"
	if v, ok := take("ssl"); ok {
		switch strings.ToLower(v) {
		case "", "true":
			sslmode = "verify-full"
		case "false":
			sslmode = "disable"
		default:
			return nil, fmt.Errorf("JDBC property ssl=%q: want true or false", v)
		}
	}
	if v := props["sslfactory"]; v == "org.postgresql.ssl.NonValidatingFactory" {
		used["sslfactory"] = true
		if sslmode != "disable" {
			sslmode = "require"
		}
	}
	if v, ok := take("sslmode"); ok {
		switch v {
		case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
			sslmode = v
		default:
			return nil, fmt.Errorf("JDBC property sslmode=%q: want disable, allow, prefer, require, verify-ca or verify-full", v)
		}
	}
	d.pg = append(d.pg, prop{"sslmode", sslmode})
	for _, name := range []string{"sslrootcert", "sslcert", "sslkey"} {
		if v, ok := take(name); ok {
			d.pg = append(d.pg, prop{name, v})
		}
	}
	timeout, ok := take("connecttimeout")
	if !ok {
		timeout, ok = take("logintimeout")
	}
	if ok {
		if n, err := strconv.Atoi(timeout); err != nil || n < 0 {
			return nil, fmt.Errorf("JDBC property connectTimeout=%q: want whole seconds", timeout)
		}
		d.pg = append(d.pg, prop{"connect_timeout", timeout})
		used["connecttimeout"], used["logintimeout"] = true, true
	}
	for jdbc, libpq := range map[string]string{"applicationname": "application_name", "currentschema": "search_path", "options": "options"} {
		if v, ok := take(jdbc); ok {
			d.pg = append(d.pg, prop{libpq, v})
		}
	}
	if v, ok := take("targetservertype"); ok {
		attrs, known := map[string]string{
			"any": "any", "primary": "primary", "master": "primary",
			"secondary": "standby", "slave": "standby",
			"prefersecondary": "prefer-standby", "preferslave": "prefer-standby",
		}[strings.ToLower(v)]
		if !known {
			return nil, fmt.Errorf("JDBC property targetServerType=%q: want any, primary, secondary or preferSecondary", v)
		}
		d.pg = append(d.pg, prop{"target_session_attrs", attrs})
	}
	// Settings in a stable order, whatever the map's.
	slices.SortFunc(d.pg, func(a, b prop) int { return strings.Compare(a.name, b.name) })
	return used, nil
}

// pgConnString is the keyword/value connection string for pgx, without
// the password (set on the parsed config instead, so that it is never in
// a string a parse error could quote). Host, port and sslmode are always
// given, so PGHOST, PGPORT and PGSSLMODE in the runner's environment do
// not change where a pipeline connects; libpq's other variables
// (PGSSLROOTCERT, PGPASSFILE, …) still apply as defaults.
func (d Database) pgConnString() string {
	var hosts, ports []string
	for _, h := range d.hosts {
		hosts = append(hosts, h.host)
		ports = append(ports, strconv.Itoa(h.port))
	}
	settings := []prop{{"host", strings.Join(hosts, ",")}, {"port", strings.Join(ports, ",")}}
	if d.user != "" {
		settings = append(settings, prop{"user", d.user})
	}
	if d.name != "" {
		settings = append(settings, prop{"dbname", d.name})
	}
	var b strings.Builder
	for i, p := range append(settings, d.pg...) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.name + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p.value) + "'")
	}
	return b.String()
}

func (d Database) openPostgres() (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(d.pgConnString())
	if err != nil {
		return nil, err
	}
	if d.password != "" {
		cfg.Password = d.password
	}
	return stdlib.OpenDB(*cfg), nil
}

type mysqlOptions struct {
	tls                                string // go-sql-driver's tls parameter
	timeout, readTimeout, writeTimeout time.Duration
}

// mysqlSettings translates MySQL Connector/J's (and MariaDB
// Connector/J's) properties into go-sql-driver/mysql's configuration.
func (d *Database) mysqlSettings(props map[string]string) (map[string]bool, error) {
	used := map[string]bool{}
	take := taker(props, used)
	boolProp := func(name string) (value, ok bool, err error) {
		v, ok := take(name)
		if !ok {
			return false, false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, false, fmt.Errorf("JDBC property %s=%q: want true or false", name, v)
		}
		return b, true, nil
	}
	// Connector/J 8 prefers TLS without verifying the server, and falls
	// back to plain text; "preferred" is the same here.
	d.my.tls = "preferred"
	useSSL, hasUseSSL, err := boolProp("usessl")
	if err != nil {
		return nil, err
	}
	verify, _, err := boolProp("verifyservercertificate")
	if err != nil {
		return nil, err
	}
	require, _, err := boolProp("requiressl")
	if err != nil {
		return nil, err
	}
	switch {
	case hasUseSSL && !useSSL:
		d.my.tls = "false"
	case verify:
		d.my.tls = "true"
	case hasUseSSL || require:
		d.my.tls = "skip-verify"
	}
	if v, ok := take("sslmode"); ok {
		// MySQL's names, then MariaDB's.
		mode, known := map[string]string{
			"disabled": "false", "preferred": "preferred", "required": "skip-verify",
			"verify_ca": "true", "verify_identity": "true",
			"disable": "false", "trust": "skip-verify", "verify-ca": "true", "verify-full": "true",
		}[strings.ToLower(v)]
		if !known {
			return nil, fmt.Errorf("JDBC property sslMode=%q: want DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY", v)
		}
		d.my.tls = mode
	}
	millis := func(name string) (time.Duration, error) {
		v, ok := take(name)
		if !ok {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("JDBC property %s=%q: want whole milliseconds", name, v)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	if d.my.timeout, err = millis("connecttimeout"); err != nil {
		return nil, err
	}
	if d.my.readTimeout, err = millis("sockettimeout"); err != nil {
		return nil, err
	}
	d.my.writeTimeout = d.my.readTimeout
	// go-sql-driver asks the server for its RSA key when it needs it, and
	// always talks utf8mb4, which is what these ask for.
	used["allowpublickeyretrieval"] = true
	if v, ok := props["characterencoding"]; ok && (strings.EqualFold(v, "utf8") || strings.EqualFold(v, "utf-8") || strings.EqualFold(v, "utf8mb4")) {
		used["characterencoding"] = true
	}
	return used, nil
}

// mysqlConfig is the driver configuration, password included.
func (d Database) mysqlConfig() *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(d.hosts[0].host, strconv.Itoa(d.hosts[0].port))
	cfg.User = d.user
	cfg.Passwd = d.password
	cfg.DBName = d.name
	cfg.TLSConfig = d.my.tls
	cfg.Timeout = d.my.timeout
	cfg.ReadTimeout = d.my.readTimeout
	cfg.WriteTimeout = d.my.writeTimeout
	return cfg
}

func (d Database) openMySQL() (*sql.DB, error) {
	connector, err := mysql.NewConnector(d.mysqlConfig())
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// sqliteSettings translates the SQLite JDBC driver's properties into
// pragmas.
func (d *Database) sqliteSettings(props map[string]string) (map[string]bool, error) {
	used := map[string]bool{}
	// The SQLite JDBC driver waits 3 s for a locked database by default.
	busy := "3000"
	if v, ok := props["busy_timeout"]; ok {
		used["busy_timeout"] = true
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return nil, fmt.Errorf("JDBC property busy_timeout=%q: want whole milliseconds", v)
		}
		busy = v
	}
	d.sqlite = append(d.sqlite, "busy_timeout("+busy+")")
	if v, ok := props["foreign_keys"]; ok {
		used["foreign_keys"] = true
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("JDBC property foreign_keys=%q: want true or false", v)
		}
		d.sqlite = append(d.sqlite, map[bool]string{true: "foreign_keys(1)", false: "foreign_keys(0)"}[b])
	}
	if v, ok := props["journal_mode"]; ok {
		used["journal_mode"] = true
		switch strings.ToUpper(v) {
		case "DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF":
		default:
			return nil, fmt.Errorf("JDBC property journal_mode=%q: want DELETE, TRUNCATE, PERSIST, MEMORY, WAL or OFF", v)
		}
		d.sqlite = append(d.sqlite, "journal_mode("+strings.ToUpper(v)+")")
	}
	return used, nil
}

func (d Database) sqliteDSN() string {
	q := url.Values{"_pragma": d.sqlite}
	return d.name + "?" + q.Encode()
}

func (d Database) openSQLite() (*sql.DB, error) {
	if d.name == "" {
		return nil, errors.New("no SQLite file")
	}
	db, err := sql.Open("sqlite", d.sqliteDSN())
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(d.name, ":memory:") {
		// Each connection would have a database of its own.
		db.SetMaxOpenConns(1)
	}
	return db, nil
}
