package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/objstore/s3test"
	"github.com/culvert/culvert/internal/pgtest"
	"github.com/culvert/culvert/internal/sqlconn"
)

// openDatabase opens a database object's fields as the runner would, for
// the test to set up and look at.
func openDatabase(t *testing.T, fields map[string][]string) *sql.DB {
	t.Helper()
	d, err := sqlconn.FromObject(fields)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tableRows returns the rows of query as lines of |-separated values,
// NULL as \N.
func tableRows(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
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
			if !v.Valid {
				v.String = `\N`
			}
			b.WriteString(v.String)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func gzipString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestE2ERunnerCopyPostgres loads a CSV file and a directory of gzipped
// CSV from S3 into a PostgreSQL table with two CopyActivities, then
// unloads the table to an S3 CSV file with a third that depends on them,
// through the real runner process. The rows and the bytes are exact: an
// empty field loads as NULL and unloads as an empty field, escaped commas
// survive. The database's password shows nowhere in the runner's log.
func TestE2ERunnerCopyPostgres(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	pg := pgtest.NewDatabase(t)
	s := mustRunServer(t)
	c := s.devClient()
	srv := s3test.New(t)
	srv.CreateBucket(t, "culvert-data")
	srv.PutObject(t, "culvert-data", "plain/orders.csv", "1,Ada,12.50\n2,Grace,\n")
	srv.PutObject(t, "culvert-data", "gzipped/part-1.csv.gz", gzipString(t, "3,\"Quoted\",0.99\n"))
	srv.PutObject(t, "culvert-data", "gzipped/part-2.csv.gz", gzipString(t, "4,\"Hopper\\, Grace\",100\n"))

	dbFields := map[string][]string{
		"type":             {"JdbcDatabase"},
		"connectionString": {fmt.Sprintf("jdbc:postgresql://%s:%d/%s", pg.Server.Host, pg.Server.Port, pg.Name)},
		"jdbcDriverClass":  {"org.postgresql.Driver"},
		"username":         {pg.Server.User},
		"*password":        {pg.Server.Password},
	}
	db := openDatabase(t, dbFields)
	if _, err := db.Exec("CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric(10,2))"); err != nil {
		t.Fatal(err)
	}

	const wg = "wg-e2e-copy-pg"
	id := mustCreate(t, c, "copy-pg", "copy-pg")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "CASCADE"),
			str("maximumRetries", "0"), str("workerGroup", wg)),
		object("Warehouse", "Warehouse", str("type", "JdbcDatabase"), str("connectionString", dbFields["connectionString"][0]),
			str("jdbcDriverClass", "org.postgresql.Driver"), str("username", pg.Server.User), str("*password", pg.Server.Password)),
		object("OrdersCsv", "OrdersCsv", str("type", "CSV"), str("column", "id INT"), str("column", "customer STRING"), str("column", "amount DECIMAL(10,2)")),
		object("PlainFile", "PlainFile", str("type", "S3DataNode"), str("filePath", "s3://culvert-data/plain/orders.csv"), ref("dataFormat", "OrdersCsv")),
		object("GzipDir", "GzipDir", str("type", "S3DataNode"), str("directoryPath", "s3://culvert-data/gzipped"),
			str("compression", "gzip"), ref("dataFormat", "OrdersCsv")),
		object("OrdersTable", "OrdersTable", str("type", "SqlDataNode"), str("table", "orders"), ref("database", "Warehouse"),
			str("selectQuery", "SELECT id, customer, amount FROM #{table} ORDER BY id")),
		object("Unloaded", "Unloaded", str("type", "S3DataNode"), str("filePath", "s3://culvert-data/unloaded/orders.csv"), ref("dataFormat", "OrdersCsv")),
		object("LoadPlain", "LoadPlain", str("type", "CopyActivity"), ref("input", "PlainFile"), ref("output", "OrdersTable")),
		object("LoadGzip", "LoadGzip", str("type", "CopyActivity"), ref("input", "GzipDir"), ref("output", "OrdersTable")),
		object("Unload", "Unload", str("type", "CopyActivity"), ref("input", "OrdersTable"), ref("output", "Unloaded"),
			ref("dependsOn", "LoadPlain"), ref("dependsOn", "LoadGzip")),
	}})
	r := startWorkRunner(t, bin, s.URL, wg, srv)
	activate(t, c, id)
	waitFinished(t, c, id, workTimeout, awaitInstance(t, c, id, "LoadPlain"), awaitInstance(t, c, id, "LoadGzip"), awaitInstance(t, c, id, "Unload"))

	wantRows := "1|Ada|12.50\n2|Grace|\\N\n3|\"Quoted\"|0.99\n4|\"Hopper, Grace\"|100.00\n"
	if got := tableRows(t, db, "SELECT * FROM orders ORDER BY id"); got != wantRows {
		t.Errorf("orders table:\n%s\nwant:\n%s", got, wantRows)
	}
	wantCSV := "1,Ada,12.50\n2,Grace,\n3,\"Quoted\",0.99\n4,\"Hopper\\, Grace\",100.00\n"
	if got := srv.GetObject(t, "culvert-data", "unloaded/orders.csv"); got != wantCSV {
		t.Errorf("unloaded CSV = %q, want %q", got, wantCSV)
	}
	if strings.Contains(r.Log.String(), pg.Server.Password) {
		t.Error("the runner's log shows the database password")
	}
}

// TestE2ERunnerSqlActivitySQLite runs two SqlActivities on a SQLite file
// through the real runner process: one on a JdbcDatabase, binding its
// scriptArgument values to ? placeholders, and one on an RdsDatabase that
// the runner's --rds-instance flag maps to the same file; then a third
// whose statement fails is FAILED with errorId SqlStatementFailed naming
// it.
func TestE2ERunnerSqlActivitySQLite(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	c := s.devClient()
	srv := s3test.New(t)
	path := filepath.Join(t.TempDir(), "etl.db")
	url := "jdbc:sqlite:" + path

	const wg = "wg-e2e-sql"
	id := mustCreate(t, c, "sql-sqlite", "sql-sqlite")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{PipelineObjects: []types.PipelineObject{
		object("Default", "Default", str("scheduleType", "ondemand"), str("failureAndRerunMode", "none"),
			str("maximumRetries", "0"), str("workerGroup", wg)),
		object("Local", "Local", str("type", "JdbcDatabase"), str("connectionString", url), str("jdbcDriverClass", "org.sqlite.JDBC"),
			str("username", "etl"), str("*password", "not-used-by-sqlite")),
		object("Rds", "Rds", str("type", "RdsDatabase"), str("rdsInstanceId", "etl-instance"), str("username", "etl"), str("*password", "not-used-either")),
		object("Create", "Create", str("type", "SqlActivity"), ref("database", "Local"),
			str("script", "CREATE TABLE runs (id INTEGER PRIMARY KEY, label TEXT, at TEXT);\nINSERT INTO runs (id, label, at) VALUES (?, ?, ?);"),
			str("scriptArgument", "1"), str("scriptArgument", "first run"), str("scriptArgument", "#{@scheduledStartTime}")),
		object("More", "More", str("type", "SqlActivity"), ref("database", "Rds"), ref("dependsOn", "Create"),
			str("script", "INSERT INTO runs (id, label) VALUES (2, 'through --rds-instance')")),
		object("Broken", "Broken", str("type", "SqlActivity"), ref("database", "Local"), ref("dependsOn", "More"),
			str("script", "UPDATE runs SET label = 'x' WHERE id = 1;\nINSERT INTO no_such_table VALUES (1);")),
	}})
	r := startWorkRunner(t, bin, s.URL, wg, srv, "--rds-instance", "etl-instance="+url)
	activate(t, c, id)
	create, more, broken := awaitInstance(t, c, id, "Create"), awaitInstance(t, c, id, "More"), awaitInstance(t, c, id, "Broken")
	waitFinished(t, c, id, workTimeout, create, more)
	waitField(t, c, id, broken, "@status", "FAILED", workTimeout)

	start := field(t, objectFields(t, c, id, create)[create], "@scheduledStartTime")
	db := openDatabase(t, map[string][]string{"type": {"JdbcDatabase"}, "connectionString": {url}})
	// The failed script's first statement stays committed, as JDBC's
	// autocommit leaves it (docs/assumptions/0017).
	want := "1|x|" + start + "\n2|through --rds-instance|\\N\n"
	if got := tableRows(t, db, "SELECT id, label, at FROM runs ORDER BY id"); got != want {
		t.Errorf("runs:\n%s\nwant:\n%s", got, want)
	}
	objs := objectFields(t, c, id, broken, create+"_Attempt=1")
	wantFields(t, "Broken", objs[broken], map[string]string{"errorId": "SqlStatementFailed"})
	// Without a pipelineLogUri the logs stay in the runner's log directory.
	wantFields(t, "Create's attempt", objs[create+"_Attempt=1"], map[string]string{
		"@logLocation": "file://" + filepath.Join(r.LogDir, id, "Create", create, create+"_Attempt=1") + "/"})
	if msg := field(t, objs[broken], "errorMessage"); !strings.Contains(msg, "statement 2 (line 2: INSERT INTO no_such_table VALUES (1))") ||
		!strings.Contains(msg, "no such table") {
		t.Errorf("Broken's errorMessage = %q, want the statement and SQLite's reason", msg)
	}
}
