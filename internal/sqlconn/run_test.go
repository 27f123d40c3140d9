package sqlconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// freeTCPPort returns a loopback port nothing listens on.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pgObject is a JdbcDatabase object for a fresh pgtest database, over TCP
// with the server's password, as a pipeline would describe it.
func pgObject(t *testing.T, extra map[string][]string) (map[string][]string, pgtest.Database) {
	t.Helper()
	db := pgtest.NewDatabase(t)
	fields := map[string][]string{
		"type":             {"JdbcDatabase"},
		"connectionString": {fmt.Sprintf("jdbc:postgresql://%s:%d/%s", db.Server.Host, db.Server.Port, db.Name)},
		"jdbcDriverClass":  {"org.postgresql.Driver"},
		"username":         {db.Server.User},
		"*password":        {db.Server.Password},
	}
	for k, v := range extra {
		fields[k] = v
	}
	return fields, db
}

func open(t *testing.T, fields map[string][]string) (*sql.DB, Database) {
	t.Helper()
	d, err := FromObject(fields)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, d
}

func sqliteObject(t *testing.T) map[string][]string {
	return map[string][]string{
		"type":             {"JdbcDatabase"},
		"connectionString": {"jdbc:sqlite:" + filepath.Join(t.TempDir(), "etl.db")},
		"jdbcDriverClass":  {"org.sqlite.JDBC"},
	}
}

// The JDBC description reaches the server: the database, the user, the
// password and the honoured properties.
func TestOpenPostgres(t *testing.T) {
	ctx := context.Background()
	fields, pg := pgObject(t, map[string][]string{
		"jdbcProperties": {"sslmode=disable", "ApplicationName=culvert-sql", "currentSchema=etl,public"},
	})
	db, _ := open(t, fields)
	var dbName, user, app, path string
	if err := db.QueryRowContext(ctx, "SELECT current_database(), current_user, current_setting('application_name'), current_setting('search_path')").Scan(&dbName, &user, &app, &path); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{pg.Name, "postgres", "culvert-sql", "etl,public"}, []string{dbName, user, app, path}); diff != "" {
		t.Errorf("session mismatch (-want +got):\n%s", diff)
	}

	// databaseName picks another database on the same server.
	other := pgtest.NewDatabase(t)
	fields["databaseName"] = []string{other.Name}
	db2, _ := open(t, fields)
	if err := db2.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	if dbName != other.Name {
		t.Errorf("with databaseName, connected to %q, want %q", dbName, other.Name)
	}
}

// A failed login says so, and does not show the password that failed.
func TestOpenPostgresWrongPassword(t *testing.T) {
	fields, _ := pgObject(t, nil)
	fields["*password"] = []string{secret}
	d, err := FromObject(fields)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.Open(context.Background())
	if err == nil {
		db.Close()
		t.Fatal("Open with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("error %q does not say the login failed", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the password: %q", err)
	}
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRunScriptPostgres(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *sql.DB {
		fields, _ := pgObject(t, nil)
		db, _ := open(t, fields)
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (id int PRIMARY KEY, day timestamp, doc jsonb)"); err != nil {
			t.Fatal(err)
		}
		return db
	}

	t.Run("arguments bind across statements, typed by the server", func(t *testing.T) {
		db := setup(t)
		r, err := RunScript(ctx, db, PostgreSQL, `
			INSERT INTO t (id, day, doc) VALUES (?, ?, '{"k": "?"}');
			-- the #{} expressions of scriptArgument arrive as text
			INSERT INTO t (id, day, doc) SELECT id + ?, day + interval '1 day', doc FROM t WHERE doc ?? 'k';`,
			[]string{"1", "2026-01-02 00:00:00", "10"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Result{Statements: 2, RowsAffected: 2}, r); diff != "" {
			t.Errorf("Result mismatch (-want +got):\n%s", diff)
		}
		if n := count(t, db, "SELECT count(*) FROM t WHERE id = 11 AND day = '2026-01-03'"); n != 1 {
			t.Errorf("second statement's row: %d, want 1", n)
		}
	})

	t.Run("without arguments a ? is the database's", func(t *testing.T) {
		db := setup(t)
		if _, err := RunScript(ctx, db, PostgreSQL, `INSERT INTO t (id, doc) SELECT 1, '{"a": 1}' WHERE '{"a": 1}'::jsonb ? 'a'`, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT count(*) FROM t"); n != 1 {
			t.Errorf("rows: %d, want 1", n)
		}
	})

	t.Run("autocommit: what ran before a failure stays", func(t *testing.T) {
		db := setup(t)
		_, err := RunScript(ctx, db, PostgreSQL, "INSERT INTO t (id) VALUES (1);\n\nINSERT INTO t (id) VALUES (1);\nINSERT INTO t (id) VALUES (2);", nil)
		var se *StatementError
		if !errors.As(err, &se) {
			t.Fatalf("error %v, want a *StatementError", err)
		}
		if se.N != 2 || se.Line != 3 || se.Excerpt != "INSERT INTO t (id) VALUES (1)" || !strings.Contains(se.Error(), "duplicate key") {
			t.Errorf("StatementError = %+v (%v), want statement 2 at line 3, a duplicate key", se, se)
		}
		if n := count(t, db, "SELECT count(*) FROM t"); n != 1 {
			t.Errorf("rows after the failure: %d, want 1 (the first insert, committed; not the third)", n)
		}
	})

	t.Run("a script's own transaction is all or nothing", func(t *testing.T) {
		db := setup(t)
		_, err := RunScript(ctx, db, PostgreSQL, "BEGIN; INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (1); COMMIT;", nil)
		if err == nil {
			t.Fatal("duplicate insert succeeded")
		}
		if n := count(t, db, "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("rows: %d, want 0", n)
		}
		if _, err := RunScript(ctx, db, PostgreSQL, "BEGIN; INSERT INTO t (id) VALUES (1); COMMIT;", nil); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT count(*) FROM t"); n != 1 {
			t.Errorf("rows after a committed script: %d, want 1", n)
		}
	})

	t.Run("nothing of the script's session reaches the pool", func(t *testing.T) {
		db := setup(t)
		db.SetMaxOpenConns(1) // the next user would get the same connection
		if _, err := RunScript(ctx, db, PostgreSQL, "BEGIN; INSERT INTO t (id) VALUES (1);", nil); err != nil {
			t.Fatal(err)
		}
		// On the script's connection, its own insert would be visible.
		if n := count(t, db, "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("rows: %d, want 0: the open transaction was not rolled back", n)
		}
		if _, err := RunScript(ctx, db, PostgreSQL, "SET search_path TO nowhere; CREATE TEMPORARY TABLE scratch (x int);", nil); err != nil {
			t.Fatal(err)
		}
		var path string
		var scratch int
		if err := db.QueryRowContext(ctx, "SELECT current_setting('search_path'), count(*) FROM pg_class WHERE relname = 'scratch'").Scan(&path, &scratch); err != nil {
			t.Fatal(err)
		}
		if path == "nowhere" || scratch != 0 {
			t.Errorf("the next user has the script's session: search_path %q, %d temporary tables", path, scratch)
		}
	})

	t.Run("session state carries from statement to statement", func(t *testing.T) {
		db := setup(t)
		_, err := RunScript(ctx, db, PostgreSQL, `
			CREATE TEMPORARY TABLE staging AS SELECT g AS id FROM generate_series(1, 3) g;
			CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x * 2; END; $$;
			INSERT INTO t (id) SELECT twice(id) FROM staging;
			VACUUM t;`, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT sum(id) FROM t"); n != 12 {
			t.Errorf("sum: %d, want 12", n)
		}
	})

	t.Run("checked before anything runs", func(t *testing.T) {
		db := setup(t)
		for _, tc := range []struct {
			script string
			args   []string
			want   string
		}{
			{"INSERT INTO t (id) VALUES (?); INSERT INTO t (id) VALUES (?)", []string{"1"}, "2 ? placeholders and 1 scriptArgument"},
			{"INSERT INTO t (id) VALUES (1)", []string{"1"}, "0 ? placeholders and 1 scriptArgument"},
			{"INSERT INTO t (id) VALUES (1); SELECT 'x", nil, "not closed"},
			{"-- nothing\n;;", nil, ErrEmptyScript.Error()},
		} {
			_, err := RunScript(ctx, db, PostgreSQL, tc.script, tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RunScript(%q, %q) = %v, want %q", tc.script, tc.args, err, tc.want)
			}
		}
		if n := count(t, db, "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("rows: %d, want 0: a rejected script ran", n)
		}
	})

	t.Run("the context bounds the script", func(t *testing.T) {
		db := setup(t)
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := RunScript(ctx, db, PostgreSQL, "SELECT pg_sleep(30)", nil)
		if err == nil {
			t.Fatal("a 30 s sleep finished within 200 ms")
		}
	})
}

func TestRunScriptSQLite(t *testing.T) {
	ctx := context.Background()
	fields := sqliteObject(t)
	fields["jdbcProperties"] = []string{"foreign_keys=true"}
	db, d := open(t, fields)
	if d.Dialect() != SQLite {
		t.Fatalf("dialect %s, want sqlite", d.Dialect())
	}
	r, err := RunScript(ctx, db, SQLite, `
		CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE child (id INTEGER, parent INTEGER REFERENCES parent(id), note TEXT);
		CREATE TRIGGER note AFTER INSERT ON child BEGIN
			UPDATE child SET note = CASE WHEN new.id > 1 THEN 'many' ELSE 'one' END WHERE id = new.id;
		END;
		INSERT INTO parent VALUES (?);
		INSERT INTO child (id, parent) VALUES (?, ?), (2, 7);`, []string{"7", "1", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Statements != 5 {
		t.Errorf("ran %d statements, want 5", r.Statements)
	}
	if n := count(t, db, "SELECT count(*) FROM child WHERE note = 'many'"); n != 1 {
		t.Errorf("trigger ran for %d rows with note many, want 1", n)
	}
	// foreign_keys=true reached SQLite.
	if _, err := RunScript(ctx, db, SQLite, "INSERT INTO child (id, parent) VALUES (3, 99)", nil); err == nil {
		t.Error("insert breaking a foreign key succeeded; foreign_keys=true not honoured")
	}

	// Another connection, as a later activity would make, sees the data.
	db2, _ := open(t, fields)
	if n := count(t, db2, "SELECT count(*) FROM child"); n != 2 {
		t.Errorf("child rows seen from a new connection: %d, want 2", n)
	}
}
