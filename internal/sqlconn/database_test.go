package sqlconn

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseJDBC(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want jdbcURL
	}{
		{"jdbc:postgresql://host:5433/db?ssl=true&sslmode=require", jdbcURL{sub: "postgresql", hosts: []hostPort{{"host", 5433}}, database: "db", props: []prop{{"ssl", "true"}, {"sslmode", "require"}}}},
		{"jdbc:postgresql://h1:5432,h2:5433/db", jdbcURL{sub: "postgresql", hosts: []hostPort{{"h1", 5432}, {"h2", 5433}}, database: "db"}},
		{"jdbc:postgresql://[::1]:5432/db", jdbcURL{sub: "postgresql", hosts: []hostPort{{"::1", 5432}}, database: "db"}},
		{"jdbc:postgresql://[::1]/db", jdbcURL{sub: "postgresql", hosts: []hostPort{{"::1", 5432}}, database: "db"}},
		{"jdbc:postgresql:db", jdbcURL{sub: "postgresql", hosts: []hostPort{{"localhost", 5432}}, database: "db"}},
		{"jdbc:postgresql:/", jdbcURL{sub: "postgresql", hosts: []hostPort{{"localhost", 5432}}}},
		{"jdbc:postgresql://host/", jdbcURL{sub: "postgresql", hosts: []hostPort{{"host", 5432}}}},
		{"jdbc:postgresql://host", jdbcURL{sub: "postgresql", hosts: []hostPort{{"host", 5432}}}},
		{"jdbc:postgresql:///db", jdbcURL{sub: "postgresql", hosts: []hostPort{{"localhost", 5432}}, database: "db"}},
		{"JDBC:PostgreSQL://host/my%20db?ApplicationName=a%26b+c", jdbcURL{sub: "postgresql", hosts: []hostPort{{"host", 5432}}, database: "my db", props: []prop{{"ApplicationName", "a&b c"}}}},
		{"jdbc:mysql://user:p%40ss@host:3307/db?useSSL=false", jdbcURL{sub: "mysql", hosts: []hostPort{{"host", 3307}}, database: "db", user: "user", password: "p@ss", props: []prop{{"useSSL", "false"}}}},
		{"jdbc:mysql://h1,h2/db", jdbcURL{sub: "mysql", hosts: []hostPort{{"h1", 3306}, {"h2", 3306}}, database: "db"}},
		{"jdbc:mariadb://host/db", jdbcURL{sub: "mariadb", hosts: []hostPort{{"host", 3306}}, database: "db"}},
		{"jdbc:redshift://examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439/dev", jdbcURL{sub: "redshift", hosts: []hostPort{{"examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com", 5439}}, database: "dev"}},
		{"jdbc:redshift://cluster/dev", jdbcURL{sub: "redshift", hosts: []hostPort{{"cluster", 5439}}, database: "dev"}},
		{"jdbc:sqlite:/path/db", jdbcURL{sub: "sqlite", database: "/path/db"}},
		{"jdbc:sqlite:rel.db?journal_mode=WAL", jdbcURL{sub: "sqlite", database: "rel.db", props: []prop{{"journal_mode", "WAL"}}}},
		{"jdbc:sqlite::memory:", jdbcURL{sub: "sqlite", database: ":memory:"}},
	} {
		got, err := parseJDBC(tc.in)
		if err != nil {
			t.Errorf("parseJDBC(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(jdbcURL{}, hostPort{}, prop{})); diff != "" {
			t.Errorf("parseJDBC(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

const secret = "Sup3r-S3cret!pw"

func TestFromObject(t *testing.T) {
	type want struct {
		dialect  Dialect
		driver   string // the driver's connection string, password and all
		str      string
		ignored  []string
		redshift bool
	}
	for _, tc := range []struct {
		name     string
		resolver Resolver
		fields   map[string][]string
		want     want
	}{
		{
			name: "JdbcDatabase postgresql, as in the brief",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://localhost:5432/db"},
				"jdbcDriverClass": {"org.postgresql.Driver"}, "username": {"u"}, "*password": {secret}, "jdbcProperties": {"sslmode=disable"}},
			want: want{dialect: PostgreSQL, driver: "host='localhost' port='5432' user='u' dbname='db' sslmode='disable'",
				str: "JdbcDatabase postgresql://u@localhost:5432/db"},
		},
		{
			name: "databaseName overrides, properties translate, the rest is ignored",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h1:5432,[::1]:5433/urldb?ssl=true&ApplicationName=etl&tcpKeepAlive=true"},
				"databaseName": {"sales"}, "username": {"etl"}, "*password": {secret},
				"jdbcProperties": {"currentSchema=staging", "connectTimeout=7", "targetServerType=primary", "options=-c statement_timeout=5min", "prepareThreshold=0"}},
			want: want{dialect: PostgreSQL,
				driver: "host='h1,::1' port='5432,5433' user='etl' dbname='sales' application_name='etl' connect_timeout='7' options='-c statement_timeout=5min' search_path='staging' sslmode='verify-full' target_session_attrs='primary'",
				str:    "JdbcDatabase postgresql://etl@h1:5432,[::1]:5433/sales", ignored: []string{"prepareThreshold", "tcpKeepAlive"}},
		},
		{
			name: "jdbcProperties win over the URL; user and password properties are credentials",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/db?sslmode=require&user=urluser&password=" + secret},
				"jdbcProperties": {"sslmode=verify-ca", "sslrootcert=/etc/ca.pem"}},
			want: want{dialect: PostgreSQL, driver: "host='h' port='5432' user='urluser' dbname='db' sslmode='verify-ca' sslrootcert='/etc/ca.pem'",
				str: "JdbcDatabase postgresql://urluser@h:5432/db"},
		},
		{
			name: "NonValidatingFactory means TLS without verification",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/db?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory"},
				"username": {"u"}, "*password": {secret}},
			want: want{dialect: PostgreSQL, driver: "host='h' port='5432' user='u' dbname='db' sslmode='require'", str: "JdbcDatabase postgresql://u@h:5432/db"},
		},
		{
			name:   "no TLS setting: prefer, like pgJDBC",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql:it's"}, "username": {`o'\x`}},
			want: want{dialect: PostgreSQL, driver: `host='localhost' port='5432' user='o\'\\x' dbname='it\'s' sslmode='prefer'`,
				str: `JdbcDatabase postgresql://o'\x@localhost:5432/it's`},
		},
		{
			name: "RedshiftDatabase with a connectionString",
			fields: map[string][]string{"type": {"RedshiftDatabase"}, "connectionString": {"jdbc:redshift://c.example.us-east-1.redshift.amazonaws.com:5439/dev"},
				"username": {"admin"}, "*password": {secret}, "region": {"us-east-1"}},
			want: want{dialect: PostgreSQL, redshift: true,
				driver: "host='c.example.us-east-1.redshift.amazonaws.com' port='5439' user='admin' dbname='dev' sslmode='prefer'",
				str:    "RedshiftDatabase redshift://admin@c.example.us-east-1.redshift.amazonaws.com:5439/dev"},
		},
		{
			name:     "RedshiftDatabase by clusterId through the resolver",
			resolver: Resolver{RedshiftClusters: map[string]string{"my-cluster": "jdbc:redshift://rs.internal:5439/dev"}},
			fields: map[string][]string{"type": {"RedshiftDatabase"}, "clusterId": {"my-cluster"}, "databaseName": {"analytics"},
				"username": {"admin"}, "*password": {secret}},
			want: want{dialect: PostgreSQL, redshift: true,
				driver: "host='rs.internal' port='5439' user='admin' dbname='analytics' sslmode='prefer'",
				str:    "RedshiftDatabase redshift://admin@rs.internal:5439/analytics"},
		},
		{
			name:     "RdsDatabase through the resolver",
			resolver: Resolver{RDSInstances: map[string]string{"orders-db": "jdbc:mysql://orders.internal:3306"}},
			fields: map[string][]string{"type": {"RdsDatabase"}, "rdsInstanceId": {"orders-db"}, "databaseName": {"orders"},
				"username": {"app"}, "*password": {secret}, "jdbcDriverJarUri": {"s3://bucket/mysql.jar"}},
			want: want{dialect: MySQL, driver: "app:" + secret + "@tcp(orders.internal:3306)/orders?tls=preferred",
				str: "RdsDatabase mysql://app@orders.internal:3306/orders"},
		},
		{
			name: "JdbcDatabase mysql with Connector/J properties",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://db:3307/shop?useSSL=true&characterEncoding=UTF-8&serverTimezone=UTC"},
				"username": {"u"}, "*password": {secret}, "jdbcProperties": {"connectTimeout=5000", "socketTimeout=60000"}},
			want: want{dialect: MySQL, driver: "u:" + secret + "@tcp(db:3307)/shop?readTimeout=1m0s&timeout=5s&tls=skip-verify&writeTimeout=1m0s",
				str: "JdbcDatabase mysql://u@db:3307/shop", ignored: []string{"serverTimezone"}},
		},
		{
			name: "mysql verifying the server",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://db/shop?useSSL=true&verifyServerCertificate=true"},
				"username": {"u"}, "*password": {secret}},
			want: want{dialect: MySQL, driver: "u:" + secret + "@tcp(db:3306)/shop?tls=true", str: "JdbcDatabase mysql://u@db:3306/shop"},
		},
		{
			name: "mysql sslMode wins; useSSL=false turns TLS off",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://db/shop?useSSL=true"},
				"username": {"u"}, "*password": {secret}, "jdbcProperties": {"sslMode=DISABLED"}},
			want: want{dialect: MySQL, driver: "u:" + secret + "@tcp(db:3306)/shop?tls=false", str: "JdbcDatabase mysql://u@db:3306/shop"},
		},
		{
			name: "MariaDB's sslMode names",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mariadb://db/shop?sslMode=verify-full"},
				"username": {"u"}, "*password": {secret}},
			want: want{dialect: MySQL, driver: "u:" + secret + "@tcp(db:3306)/shop?tls=true", str: "JdbcDatabase mariadb://u@db:3306/shop"},
		},
		{
			name: "MySqlDataNode with its own connection, user in the URL",
			fields: map[string][]string{"type": {"MySqlDataNode"}, "table": {"orders"}, "connectionString": {"jdbc:mysql://urluser:" + secret + "@db/shop"},
				"schedule": {"Daily"}},
			want: want{dialect: MySQL, driver: "urluser:" + secret + "@tcp(db:3306)/shop?tls=preferred", str: "MySqlDataNode mysql://urluser@db:3306/shop"},
		},
		{
			name: "MySqlDataNode fields override the URL",
			fields: map[string][]string{"type": {"MySqlDataNode"}, "table": {"orders"}, "connectionString": {"jdbc:mysql://urluser:urlpass@db/shop"},
				"username": {"u"}, "*password": {secret}},
			want: want{dialect: MySQL, driver: "u:" + secret + "@tcp(db:3306)/shop?tls=preferred", str: "MySqlDataNode mysql://u@db:3306/shop"},
		},
		{
			name: "sqlite file, no credentials",
			fields: map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:/var/lib/etl/x.db?foreign_keys=true"},
				"jdbcDriverClass": {"org.sqlite.JDBC"}, "username": {"ignored"}, "*password": {secret}, "databaseName": {"also-ignored"},
				"jdbcProperties": {"journal_mode=wal", "busy_timeout=100", "date_class=TEXT"}},
			want: want{dialect: SQLite, driver: "/var/lib/etl/x.db?_pragma=busy_timeout%28100%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29",
				str: "JdbcDatabase sqlite:/var/lib/etl/x.db", ignored: []string{"date_class"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.resolver.FromObject(tc.fields)
			if err != nil {
				t.Fatalf("FromObject: %v", err)
			}
			got := want{dialect: d.Dialect(), str: d.String(), ignored: d.Ignored(), redshift: d.Redshift()}
			switch d.Dialect() {
			case PostgreSQL:
				got.driver = d.pgConnString()
			case MySQL:
				got.driver = d.mysqlConfig().FormatDSN()
			case SQLite:
				got.driver = d.sqliteDSN()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// errorCases is every way FromObject can fail, each with secrets where a
// careless message would show them.
var errorCases = []struct {
	name     string
	resolver Resolver
	fields   map[string][]string
	want     string // in the error
}{
	{"no type", Resolver{}, map[string][]string{"*password": {secret}}, "no type"},
	{"two types", Resolver{}, map[string][]string{"type": {"JdbcDatabase", "RdsDatabase"}, "*password": {secret}}, "type has 2 values"},
	{"two passwords", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d"}, "*password": {secret, secret + "2"}}, "*password has 2 values"},
	{"two connection strings", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://u:" + secret + "@h/d", "jdbc:mysql://h/d"}}, "connectionString has 2 values"},
	{"not a database", Resolver{}, map[string][]string{"type": {"S3DataNode"}, "*password": {secret}}, "S3DataNode is not a database"},
	{"SqlDataNode", Resolver{}, map[string][]string{"type": {"SqlDataNode"}, "table": {"t"}}, "database field"},
	{"JdbcDatabase without connectionString", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "*password": {secret}}, "no connectionString"},
	{"MySqlDataNode without connectionString", Resolver{}, map[string][]string{"type": {"MySqlDataNode"}, "*password": {secret}}, "no connectionString"},
	{"MySqlDataNode on postgresql", Resolver{}, map[string][]string{"type": {"MySqlDataNode"}, "connectionString": {"jdbc:postgresql://h/d"}, "*password": {secret}}, "not jdbc:mysql:"},
	{"RdsDatabase without id", Resolver{}, map[string][]string{"type": {"RdsDatabase"}, "*password": {secret}}, "no rdsInstanceId"},
	{"RdsDatabase unknown", Resolver{}, map[string][]string{"type": {"RdsDatabase"}, "rdsInstanceId": {"db1"}, "username": {"u"}, "*password": {secret}}, `rdsInstanceId "db1" is unknown`},
	{"RdsDatabase mapped to a bad URL", Resolver{RDSInstances: map[string]string{"db1": "mysql://h/d"}}, map[string][]string{"type": {"RdsDatabase"}, "rdsInstanceId": {"db1"}, "*password": {secret}}, "does not begin with jdbc:"},
	{"Redshift clusterId unknown", Resolver{}, map[string][]string{"type": {"RedshiftDatabase"}, "clusterId": {"c1"}, "*password": {secret}}, `clusterId "c1" is unknown`},
	{"Redshift both", Resolver{}, map[string][]string{"type": {"RedshiftDatabase"}, "clusterId": {"c1"}, "connectionString": {"jdbc:redshift://h/d"}, "*password": {secret}}, "both clusterId and connectionString"},
	{"Redshift neither", Resolver{}, map[string][]string{"type": {"RedshiftDatabase"}, "*password": {secret}}, "neither clusterId nor connectionString"},
	{"Redshift on mysql", Resolver{}, map[string][]string{"type": {"RedshiftDatabase"}, "connectionString": {"jdbc:mysql://h/d"}, "*password": {secret}}, "not jdbc:redshift:"},
	{"Redshift IAM", Resolver{}, map[string][]string{"type": {"RedshiftDatabase"}, "connectionString": {"jdbc:redshift:iam://c:5439/dev"}, "*password": {secret}}, "IAM"},
	{"not jdbc", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"postgres://u:" + secret + "@h/d"}, "*password": {secret}}, "does not begin with jdbc:"},
	{"no subprotocol", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:" + secret}}, "no jdbc:<subprotocol>"},
	{"unsupported subprotocol", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:oracle:thin:u/" + secret + "@h:1521:orcl"}, "*password": {secret}}, `"oracle" is not supported`},
	{"mysql without //", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql:" + secret}}, "needs //host"},
	{"bad port", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://u:" + secret + "/x@h/d"}, "*password": {secret}}, "port that is not a number"},
	{"port out of range", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h:70000/d"}, "*password": {secret}}, "port that is not a number"},
	{"empty host", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h,:5432/d"}, "*password": {secret}}, "no host name"},
	{"unclosed bracket", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://[::1/d"}, "*password": {secret}}, "unclosed ["},
	{"text after bracket", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://[::1]x/d"}, "*password": {secret}}, "after ]"},
	{"Connector/J address form", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://address=(host=h)(password=" + secret + ")/d"}}, "only host[:port]"},
	{"bad escape in user", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://u%zz:" + secret + "@h/d"}}, "user name"},
	{"bad escape in password", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://u:" + secret + "%zz@h/d"}}, "in its password"},
	{"bad escape in database", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/" + secret + "%zz"}, "*password": {secret}}, "database name"},
	{"bad escape in opaque database", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql:" + secret + "%zz"}, "*password": {secret}}, "database name"},
	{"bad escape in property name", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?" + secret + "%zz=1"}, "*password": {secret}}, "property name"},
	{"bad escape in property value", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?password=" + secret + "%zz"}, "*password": {secret}}, `"password" has a bad`},
	{"sqlite without path", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:?password=" + secret}}, "no file path"},
	{"sqlite bad property escape", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:x.db?password=" + secret + "%zz"}}, `"password" has a bad`},
	{"jdbcProperties without =", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d"}, "*password": {secret}, "jdbcProperties": {"ssl=true", secret}}, "jdbcProperties value 2"},
	{"mysql several hosts", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h1,h2/d"}, "*password": {secret}}, "several hosts"},
	{"pg ssl", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?ssl=maybe"}, "*password": {secret}}, "ssl="},
	{"pg sslmode", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d"}, "jdbcProperties": {"sslmode=sometimes"}, "*password": {secret}}, "sslmode="},
	{"pg connectTimeout", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?loginTimeout=soon"}, "*password": {secret}}, "whole seconds"},
	{"pg targetServerType", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?targetServerType=leader"}, "*password": {secret}}, "targetServerType="},
	{"mysql useSSL", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?useSSL=yes"}, "*password": {secret}}, "usessl="},
	{"mysql verifyServerCertificate", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?verifyServerCertificate=2"}, "*password": {secret}}, "verifyservercertificate="},
	{"mysql requireSSL", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?requireSSL=yes"}, "*password": {secret}}, "requiressl="},
	{"mysql sslMode", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?sslMode=ON"}, "*password": {secret}}, "sslMode="},
	{"mysql connectTimeout", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?connectTimeout=-1"}, "*password": {secret}}, "whole milliseconds"},
	{"mysql socketTimeout", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://h/d?socketTimeout=1s"}, "*password": {secret}}, "whole milliseconds"},
	{"sqlite busy_timeout", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:x.db?busy_timeout=x"}}, "busy_timeout="},
	{"sqlite foreign_keys", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:x.db?foreign_keys=on"}}, "foreign_keys="},
	{"sqlite journal_mode", Resolver{}, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:x.db?journal_mode=wal2);drop"}}, "journal_mode="},
}

func TestFromObjectErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.resolver.FromObject(tc.fields)
			if err == nil {
				t.Fatalf("FromObject succeeded (%v); want an error", d)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}

// Nothing a Database prints shows a password, wherever it came from.
func TestNoPasswordInOutput(t *testing.T) {
	for _, fields := range []map[string][]string{
		{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d"}, "username": {"u"}, "*password": {secret}},
		{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d?password=" + secret}, "username": {"u"}},
		{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:postgresql://h/d"}, "jdbcProperties": {"password=" + secret}},
		{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:mysql://u:" + secret + "@h/d"}},
		{"type": {"MySqlDataNode"}, "connectionString": {"jdbc:mysql://h/d"}, "username": {"u"}, "*password": {secret}},
		{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:x.db"}, "*password": {secret}},
	} {
		d, err := FromObject(fields)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("db", "db", d)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("db", "db", d)
		for _, out := range []string{d.String(), fmt.Sprint(d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d), fmt.Sprintf("%v", &d), logged.String(), fmt.Sprint(d.Ignored())} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the password: %q", fields["connectionString"][0], out)
			}
		}
		if d.Dialect() != SQLite && d.password != secret {
			t.Errorf("%s: password %q not taken (so this test proves nothing)", fields["connectionString"][0], d.password)
		}
	}
}

// Open's errors name the database without its password.
func TestOpenErrorsHideThePassword(t *testing.T) {
	closedPort := freeTCPPort(t)
	for _, tc := range []struct {
		name   string
		fields map[string][]string
	}{
		{"postgresql refused", map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/d?sslmode=disable&connectTimeout=5", closedPort)}, "username": {"u"}, "*password": {secret}}},
		{"mysql refused", map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {fmt.Sprintf("jdbc:mysql://127.0.0.1:%d/d?connectTimeout=5000", closedPort)}, "username": {"u"}, "*password": {secret}}},
		{"mysql refused, password in URL", map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {fmt.Sprintf("jdbc:mysql://u:%s@127.0.0.1:%d/d", secret, closedPort)}}},
		{"sqlite in a missing directory", map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {"jdbc:sqlite:" + t.TempDir() + "/missing/dir/x.db"}, "*password": {secret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := FromObject(tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			db, err := d.Open(context.Background())
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded; want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the password: %q", err)
			}
			if !strings.Contains(err.Error(), d.String()) {
				t.Errorf("error %q does not name the database %q", err, d)
			}
		})
	}
}

// scrub is the guard for drivers' messages.
func TestScrub(t *testing.T) {
	err := scrub(fmt.Errorf("driver said: bad password %s for %s", secret, "u"), []string{"", "abc", secret})
	if got, want := err.Error(), "driver said: bad password **** for u"; got != want {
		t.Errorf("scrubbed error = %q, want %q", got, want)
	}
	plain := fmt.Errorf("nothing secret")
	if scrub(plain, []string{secret}) != plain {
		t.Error("scrub wrapped an error with no secret in it")
	}
}
