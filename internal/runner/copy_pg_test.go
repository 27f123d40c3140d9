package runner

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/culvert/culvert/internal/pgtest"
	"github.com/culvert/culvert/internal/sqlconn"
)

// pgDB returns a JdbcDatabase object for a fresh PostgreSQL database
// (internal/pgtest) over TCP with a password, and the database opened.
func pgDB(t *testing.T, id string) (*Object, *sql.DB) {
	t.Helper()
	pg := pgtest.NewDatabase(t)
	obj := &Object{ID: id, Fields: []Field{str("type", "JdbcDatabase"),
		str("connectionString", fmt.Sprintf("jdbc:postgresql://%s:%d/%s", pg.Server.Host, pg.Server.Port, pg.Name)),
		str("jdbcDriverClass", "org.postgresql.Driver"), str("username", pg.Server.User), str("*password", pg.Server.Password)}}
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

// TestCopyPostgresTypes loads CSV text into typed PostgreSQL columns and
// unloads them again: the server parses the text, and values come back in
// the forms a CSV file would have held them, so the round trip is exact.
func TestCopyPostgresTypes(t *testing.T) {
	t.Parallel()
	dbObj, db := pgDB(t, "Pg")
	mustExec(t, db, `CREATE TABLE typed (id int PRIMARY KEY, amount numeric(10,2), ratio double precision, day date,
		at timestamp, at_tz timestamptz, ok boolean, note text)`)
	const csv = "1,12.50,0.25,2026-03-01,2026-03-01 10:00:00,2026-03-01 09:30:00.5Z,true,plain\n" +
		"2,,,,,,,\n" +
		"3,-1.00,1234567,1999-12-31,1999-12-31 23:59:59.123456,2000-01-01 00:00:00Z,false,comma\\, and \\\\ backslash\n"
	in := s3NodeObj("@In_1", "filePath", "s3://bucket/typed.csv")
	table := sqlNode("@Typed_1", "typed", dbObj, "selectQuery", "SELECT * FROM typed ORDER BY id")
	out := s3NodeObj("@Out_1", "filePath", "s3://bucket/unloaded.csv")
	job, srv := newS3Job(t, copyTask(in, table, dbObj))
	srv.PutObject(t, "bucket", "typed.csv", csv)
	if err := (Copy{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("CSV → PostgreSQL: %v", err)
	}
	if got := queryRows(t, db, "SELECT id, amount IS NULL, note IS NULL FROM typed ORDER BY id"); got != "1|false|false\n2|true|true\n3|false|false\n" {
		t.Errorf("NULLs loaded:\n%s", got)
	}
	job.Task = copyTask(table, out, dbObj)
	if err := (Copy{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("PostgreSQL → CSV: %v", err)
	}
	if got := srv.GetObject(t, "bucket", "unloaded.csv"); got != csv {
		t.Errorf("unloaded CSV:\n%s\nwant the loaded one:\n%s", got, csv)
	}

	// A row PostgreSQL refuses rolls back the rows before it.
	srv.PutObject(t, "bucket", "typed.csv", "10,1,1,2026-01-01,2026-01-01 00:00:00,2026-01-01 00:00:00Z,true,x\n1,1,1,2026-01-01,2026-01-01 00:00:00,2026-01-01 00:00:00Z,true,duplicate\n")
	job.Task = copyTask(in, table, dbObj)
	te := wantTaskError(t, redact((Copy{}).Execute(context.Background(), job), job.Task.Secrets()), StatusFailed, "SqlStatementFailed")
	if !strings.Contains(te.Message, "duplicate key") {
		t.Errorf("errorMessage = %q, want PostgreSQL's reason", te.Message)
	}
	if got := queryRows(t, db, "SELECT count(*) FROM typed"); got != "3\n" {
		t.Errorf("rows after the failed copy: %s, want the 3 from before", got)
	}
}
