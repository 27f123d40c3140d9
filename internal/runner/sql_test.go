package runner

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/culvert/culvert/internal/sqlconn"
)

// sqliteDB returns a JdbcDatabase object for a fresh SQLite file, and the
// file opened for the test to look at.
func sqliteDB(t *testing.T, id string) (*Object, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	obj := &Object{ID: id, Fields: []Field{str("type", "JdbcDatabase"), str("connectionString", "jdbc:sqlite:"+path),
		str("jdbcDriverClass", "org.sqlite.JDBC"), str("username", "nobody"), str("*password", "sqlite-ignores-this")}}
	d, err := sqlconn.FromObject(obj.FieldMap())
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return obj, db
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryRows returns the rows of query as lines of |-separated values,
// NULL as \N.
func queryRows(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			if v.Valid {
				b.WriteString(v.String)
			} else {
				b.WriteString(`\N`)
			}
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSQLActivity runs SqlActivity scripts on SQLite files, with
// scriptArgument values bound to ? placeholders, from script or from a
// scriptUri on S3.
func TestSQLActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fields    []Field
		wantID    string
		wantInMsg string
		wantRows  string // of SELECT * FROM t ORDER BY id, when the task finished
	}{
		{name: "script with arguments",
			fields: []Field{str("script", "CREATE TABLE t (id INTEGER, name TEXT);\nINSERT INTO t VALUES (?, ?), (?, 'fixed; with a semicolon');"),
				str("scriptArgument", "1"), str("scriptArgument", "one"), str("scriptArgument", "2")},
			wantRows: "1|one\n2|fixed; with a semicolon\n"},
		{name: "scriptUri on S3", fields: []Field{str("scriptUri", "s3://bucket/load.sql"), str("scriptArgument", "7")},
			wantRows: "7|from S3\n"},
		{name: "queue is for Redshift only", fields: []Field{str("script", "CREATE TABLE t (id INTEGER)"), str("queue", "etl")}, wantRows: ""},
		{name: "failing statement", fields: []Field{str("script", "CREATE TABLE t (id INTEGER);\nINSERT INTO nope VALUES (1);")},
			wantID: "SqlStatementFailed", wantInMsg: "statement 2 (line 2: INSERT INTO nope VALUES (1))"},
		{name: "placeholders do not match", fields: []Field{str("script", "SELECT ?, ?"), str("scriptArgument", "1")},
			wantID: "InvalidScript", wantInMsg: "2 ? placeholders and the activity 1 scriptArgument"},
		{name: "empty script", fields: []Field{str("script", "-- nothing\n")}, wantID: "InvalidScript"},
		{name: "missing scriptUri", fields: []Field{str("scriptUri", "s3://bucket/nope.sql")}, wantID: "ScriptUnavailable", wantInMsg: "NoSuchKey"},
		{name: "both script and scriptUri", fields: []Field{str("script", "SELECT 1"), str("scriptUri", "s3://bucket/load.sql")}, wantID: "InvalidTaskObject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbObj, db := sqliteDB(t, "Db")
			job, srv := newS3Job(t, shellTask("SqlActivity", append(tc.fields, ref("database", dbObj.ID)), dbObj))
			srv.PutObject(t, "bucket", "load.sql", "CREATE TABLE t (id INTEGER, name TEXT);\nINSERT INTO t VALUES (?, 'from S3');\n")
			err := SQL{}.Execute(context.Background(), job)
			status := StatusFailed
			if tc.wantID == "" {
				status = ""
			}
			te := wantTaskError(t, err, status, tc.wantID)
			if te != nil && !strings.Contains(te.Message, tc.wantInMsg) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
			if tc.wantID == "" {
				if got := queryRows(t, db, "SELECT * FROM t ORDER BY id"); got != tc.wantRows {
					t.Errorf("rows = %q, want %q", got, tc.wantRows)
				}
			}
		})
	}
}

// TestSQLActivityDatabases checks the database errors a user sees: never
// with the password, and saying what to do about an RdsDatabase id.
func TestSQLActivityDatabases(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-Pa55word"
	tests := []struct {
		name      string
		db        *Object
		resolver  sqlconn.Resolver
		wantID    string
		wantInMsg string
	}{
		{name: "refused connection", db: &Object{ID: "Pg", Fields: []Field{str("type", "JdbcDatabase"),
			str("connectionString", "jdbc:postgresql://127.0.0.1:1/db?password="+secret), str("username", "etl"), str("*password", secret)}},
			wantID: "ConnectionFailed", wantInMsg: "connect to JdbcDatabase postgresql://etl@127.0.0.1:1/db"},
		{name: "unknown RDS instance", db: &Object{ID: "Rds", Fields: []Field{str("type", "RdsDatabase"), str("rdsInstanceId", "prod-db"),
			str("username", "etl"), str("*password", secret)}},
			wantID: "InvalidDatabase", wantInMsg: `rdsInstanceId "prod-db" is unknown`},
		{name: "resolved RDS instance, wrong port", db: &Object{ID: "Rds", Fields: []Field{str("type", "RdsDatabase"), str("rdsInstanceId", "prod-db"),
			str("username", "etl"), str("*password", secret)}},
			resolver: sqlconn.Resolver{RDSInstances: map[string]string{"prod-db": "jdbc:postgresql://127.0.0.1:1/sales"}},
			wantID:   "ConnectionFailed", wantInMsg: "RdsDatabase postgresql://etl@127.0.0.1:1/sales"},
		{name: "not a database", db: &Object{ID: "Node", Fields: []Field{str("type", "S3DataNode")}},
			wantID: "InvalidDatabase", wantInMsg: "not a database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := shellTask("SqlActivity", []Field{str("script", "SELECT 1"), ref("database", tc.db.ID)}, tc.db)
			job := newJob(t, task)
			job.Databases = tc.resolver
			te := wantTaskError(t, redact(SQL{}.Execute(context.Background(), job), task.Secrets()), StatusFailed, tc.wantID)
			if !strings.Contains(te.Message, tc.wantInMsg) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
			if strings.Contains(te.Message+te.StackTrace, secret) {
				t.Errorf("errorMessage %q shows the password", te.Message)
			}
		})
	}
}
