package runner

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"slices"
	"strings"
	"testing"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func gunzip(t *testing.T, s string) string {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sqlNode(id, table string, db *Object, kv ...string) *Object {
	o := &Object{ID: id, Fields: []Field{str("type", "SqlDataNode"), str("table", table), ref("database", db.ID)}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Fields = append(o.Fields, str(kv[i], kv[i+1]))
	}
	return o
}

func copyTask(in, out *Object, others ...*Object) *Task {
	return shellTask("CopyActivity", []Field{ref("input", in.ID), ref("output", out.ID)}, append([]*Object{in, out}, others...)...)
}

// TestCopyS3AndSQL copies a gzipped CSV directory into a SQLite table
// and the table back out as TSV, and checks rows and bytes: an empty field
// loads as NULL, NULL unloads as an empty field, and separators and
// escapes survive.
func TestCopyS3AndSQL(t *testing.T) {
	t.Parallel()
	dbObj, db := sqliteDB(t, "Db")
	mustExec(t, db, "CREATE TABLE people (id INTEGER, name TEXT, note TEXT)")
	csv := &Object{ID: "Csv", Fields: []Field{str("type", "CSV"), str("column", "id INT"), str("column", "name STRING"), str("column", "note STRING")}}
	tsv := &Object{ID: "Tsv", Fields: []Field{str("type", "TSV")}}
	in := s3NodeObj("@In_1", "directoryPath", "s3://bucket/in", "compression", "gzip")
	in.Fields = append(in.Fields, ref("dataFormat", csv.ID))
	table := sqlNode("@Table_1", "people", dbObj)
	out := s3NodeObj("@Out_1", "directoryPath", "s3://bucket/out/", "compression", "gzip")
	out.Fields = append(out.Fields, ref("dataFormat", tsv.ID))

	job, srv := newS3Job(t, copyTask(in, table, dbObj, csv))
	srv.PutObject(t, "bucket", "in/part-1.csv.gz", gzipped(t, "1,Ada,first\\, with a comma\n2,Grace,\n"))
	srv.PutObject(t, "bucket", "in/part-2.csv.gz", gzipped(t, "3,,tab\there"))
	if err := (Copy{BatchRows: 2}).Execute(context.Background(), job); err != nil {
		t.Fatalf("S3 → SQL: %v", err)
	}
	want := "1|Ada|first, with a comma\n2|Grace|\\N\n3|\\N|tab\there\n"
	if got := queryRows(t, db, "SELECT * FROM people ORDER BY id"); got != want {
		t.Errorf("table after the copy:\n%s\nwant:\n%s", got, want)
	}

	job2 := *job
	job2.Task = copyTask(table, out, dbObj, tsv)
	if err := (Copy{}).Execute(context.Background(), &job2); err != nil {
		t.Fatalf("SQL → S3: %v", err)
	}
	if keys := srv.Keys(t, "bucket", "out/"); !slices.Equal(keys, []string{"out/part-00000.tsv.gz"}) {
		t.Fatalf("output keys %q", keys)
	}
	wantTSV := "1\tAda\tfirst, with a comma\n2\tGrace\t\n3\t\ttab\\\there\n"
	if got := gunzip(t, srv.GetObject(t, "bucket", "out/part-00000.tsv.gz")); got != wantTSV {
		t.Errorf("unloaded TSV = %q, want %q", got, wantTSV)
	}
}

// TestCopyS3ToS3 reformats: a CSV file in, a Custom format with a
// manifest out, through a manifest on the way in; a RegEx input, TSV out.
func TestCopyS3ToS3(t *testing.T) {
	t.Parallel()
	custom := &Object{ID: "Pipes", Fields: []Field{str("type", "Custom"), str("columnSeparator", "|"), str("escapeChar", "\\")}}
	regex := &Object{ID: "Log", Fields: []Field{str("type", "RegEx"), str("inputRegEx", `(\S+) (\S+)`), str("column", "verb STRING"), str("column", "path STRING")}}
	tsv := &Object{ID: "Tsv", Fields: []Field{str("type", "TSV")}}
	byManifest := s3NodeObj("@In_1", "manifestFilePath", "s3://bucket/in.manifest")
	pipes := s3NodeObj("@Out_1", "filePath", "s3://bucket/out/data.txt", "manifestFilePath", "s3://bucket/out.manifest")
	pipes.Fields = append(pipes.Fields, ref("dataFormat", custom.ID))
	logs := s3NodeObj("@Logs_1", "filePath", "s3://bucket/access.log")
	logs.Fields = append(logs.Fields, ref("dataFormat", regex.ID))
	tsvOut := s3NodeObj("@Tsv_1", "directoryPath", "s3://bucket/tsv")
	tsvOut.Fields = append(tsvOut.Fields, ref("dataFormat", tsv.ID))

	job, srv := newS3Job(t, copyTask(byManifest, pipes, custom))
	srv.PutObject(t, "bucket", "a.csv", "a,b|c\n")
	srv.PutObject(t, "bucket", "b.csv", "d,e\n")
	srv.PutObject(t, "bucket", "in.manifest", `{"entries": [{"url": "s3://bucket/b.csv", "mandatory": true}, {"url": "s3://bucket/gone.csv"}, {"url": "s3://bucket/a.csv"}]}`)
	srv.PutObject(t, "bucket", "access.log", "GET /index.html\nPOST /form\n")
	if err := (Copy{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("CSV → Custom: %v", err)
	}
	if got := srv.GetObject(t, "bucket", "out/data.txt"); got != "d|e\na|b\\|c\n" {
		t.Errorf("Custom output = %q", got)
	}
	if got := srv.GetObject(t, "bucket", "out.manifest"); !strings.Contains(got, `"url": "s3://bucket/out/data.txt"`) {
		t.Errorf("output manifest = %s", got)
	}

	job.Task = copyTask(logs, tsvOut, regex, tsv)
	if err := (Copy{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("RegEx → TSV: %v", err)
	}
	if got := srv.GetObject(t, "bucket", "tsv/part-00000.tsv"); got != "GET\t/index.html\nPOST\t/form\n" {
		t.Errorf("TSV output = %q", got)
	}
}

// TestCopySQLToSQL copies between two SQLite files with the nodes'
// selectQuery and insertQuery, keeping NULL and the empty string apart,
// and creates the output table with createTableSql.
func TestCopySQLToSQL(t *testing.T) {
	t.Parallel()
	srcObj, src := sqliteDB(t, "Src")
	dstObj, dst := sqliteDB(t, "Dst")
	mustExec(t, src, "CREATE TABLE a (id INTEGER, s TEXT)", "INSERT INTO a VALUES (1, 'x'), (2, ''), (3, NULL), (4, 'skip')")
	in := sqlNode("@A_1", "a", srcObj, "selectQuery", "SELECT id, s FROM a WHERE id < 4 ORDER BY id")
	out := sqlNode("@B_1", "b", dstObj, "insertQuery", "INSERT INTO b (s, id) VALUES (?, ?)", "createTableSql", "CREATE TABLE b (id INTEGER, s TEXT)")
	// insertQuery takes the fields in order: the select swaps them.
	in.Fields[len(in.Fields)-1] = str("selectQuery", "SELECT s, id FROM a WHERE id < 4 ORDER BY id")
	job := newJob(t, copyTask(in, out, srcObj, dstObj))
	if err := (Copy{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("SQL → SQL: %v", err)
	}
	if got, want := queryRows(t, dst, "SELECT id, s, s IS NULL FROM b ORDER BY id"), "1|x|0\n2||0\n3|\\N|1\n"; got != want {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

// TestCopyFailureLeavesNothing fails copies part way: a record that does
// not parse, a row the table refuses, an output bucket that refuses. No
// row or object is left behind.
func TestCopyFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	csv := &Object{ID: "Csv", Fields: []Field{str("type", "CSV"), str("column", "id INT"), str("column", "name STRING")}}
	tests := []struct {
		name      string
		input     string // the CSV object s3://bucket/in.csv
		denyOut   bool
		wantID    string
		wantInMsg string
	}{
		{name: "bad record", input: "1,a\n2,b\n3,c,extra\n", wantID: "InvalidRecord", wantInMsg: "record 3"},
		{name: "refused row", input: "1,a\n2,b\nthree,c\n", wantID: "SqlStatementFailed", wantInMsg: "nothing was written"},
		{name: "missing input", wantID: "InputUnavailable", wantInMsg: "NoSuchKey"},
		{name: "refused output", input: "1,a\n", denyOut: true, wantID: "OutputUnavailable", wantInMsg: "Status Code: 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbObj, db := sqliteDB(t, "Db")
			mustExec(t, db, "CREATE TABLE t (id INTEGER NOT NULL CHECK (typeof(id) = 'integer'), name TEXT)")
			in := s3NodeObj("@In_1", "filePath", "s3://bucket/in.csv")
			in.Fields = append(in.Fields, ref("dataFormat", csv.ID))
			out := sqlNode("@T_1", "t", dbObj)
			if tc.denyOut {
				out = s3NodeObj("@Out_1", "filePath", "s3://denied/out.csv")
			}
			job, srv := newS3Job(t, copyTask(in, out, csv, dbObj))
			srv.CreateBucket(t, "denied")
			srv.Deny("denied")
			if tc.input != "" {
				srv.PutObject(t, "bucket", "in.csv", tc.input)
			}
			te := wantTaskError(t, (Copy{BatchRows: 1}).Execute(context.Background(), job), StatusFailed, tc.wantID)
			if !strings.Contains(te.Message, tc.wantInMsg) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
			if got := queryRows(t, db, "SELECT * FROM t"); got != "" {
				t.Errorf("the failed copy left rows:\n%s", got)
			}
		})
	}
}

// TestSQLText pins how column values become text in files.
func TestSQLText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v      any
		dbType string
		want   sql.NullString
	}{
		{v: nil, want: sql.NullString{}},
		{v: "", want: sql.NullString{Valid: true}},
		{v: int64(-7), want: sql.NullString{String: "-7", Valid: true}},
		{v: 1234567.0, want: sql.NullString{String: "1234567", Valid: true}},
		{v: 0.5, want: sql.NullString{String: "0.5", Valid: true}},
		{v: 1e300, want: sql.NullString{String: "1e+300", Valid: true}},
		{v: true, want: sql.NullString{String: "true", Valid: true}},
		{v: []byte("raw"), want: sql.NullString{String: "raw", Valid: true}},
	} {
		if got := sqlText(tc.v, tc.dbType); got != tc.want {
			t.Errorf("sqlText(%#v, %q) = %+v, want %+v", tc.v, tc.dbType, got, tc.want)
		}
	}
}
