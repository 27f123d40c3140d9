package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/culvert/culvert/internal/sqlconn"
)

// sqlTable is a SqlDataNode's or MySqlDataNode's table: table, qualified
// by schemaName when given, used in SQL as written.
func sqlTable(o *Object) (string, *TaskError) {
	table, _ := o.String("table")
	if table == "" {
		return "", failf("InvalidTaskObject", "%s %s has no table", o.Type(), o.ID)
	}
	if schema, _ := o.String("schemaName"); schema != "" {
		table = schema + "." + table
	}
	return table, nil
}

// sqlSource reads the rows of a node's selectQuery, or of its whole table.
type sqlSource struct {
	db    *openDB
	node  *Object
	rows  *sql.Rows
	cols  []string
	types []string // DatabaseTypeName of each column
	vals  []any
	ptrs  []any
	n     int
}

func openSQLSource(ctx context.Context, job *Job, o *Object) (source, error) {
	d, te := nodeDatabase(job.Task, job.Databases, o)
	if te != nil {
		return nil, te
	}
	query, _ := o.String("selectQuery")
	if query == "" {
		table, te := sqlTable(o)
		if te != nil {
			return nil, te
		}
		query = "SELECT * FROM " + table
	}
	db, err := connect(ctx, job, d)
	if err != nil {
		return nil, err
	}
	job.Logger.Info("runner: reading input", "node", o.ID, "query", query, "database", d)
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failf("SqlStatementFailed", "input %s %s: %s: %v", o.Type(), o.ID, excerpt(query), err)
	}
	s := &sqlSource{db: db, node: o, rows: rows}
	cts, err := rows.ColumnTypes()
	if err == nil {
		for _, ct := range cts {
			s.cols = append(s.cols, ct.Name())
			s.types = append(s.types, strings.ToUpper(ct.DatabaseTypeName()))
		}
	}
	if err != nil {
		s.close()
		return nil, failf("SqlStatementFailed", "input %s %s: %v", o.Type(), o.ID, err)
	}
	s.vals = make([]any, len(s.cols))
	s.ptrs = make([]any, len(s.cols))
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s, nil
}

func (s *sqlSource) columns() []string { return s.cols }

func (s *sqlSource) next(ctx context.Context) (record, error) {
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, failf("SqlStatementFailed", "input %s %s: after row %d: %v", s.node.Type(), s.node.ID, s.n, err)
		}
		return nil, io.EOF
	}
	s.n++
	if err := s.rows.Scan(s.ptrs...); err != nil {
		return nil, failf("SqlStatementFailed", "input %s %s: row %d: %v", s.node.Type(), s.node.ID, s.n, err)
	}
	rec := make(record, len(s.vals))
	for i, v := range s.vals {
		rec[i] = sqlText(v, s.types[i])
	}
	return rec, nil
}

func (s *sqlSource) close() {
	s.rows.Close()
	s.db.Close()
}

// sqlText is a column value as the text a file holds: NULL stays NULL
// (written as an empty field), numbers in plain decimal notation, times
// in SQL's literal form (2026-03-01, 2026-03-01 10:00:00, or with Z for a
// timestamp with time zone, in UTC), booleans as true and false, bytes as
// they are.
func sqlText(v any, dbType string) sql.NullString {
	var s string
	switch v := v.(type) {
	case nil:
		return sql.NullString{}
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		s = formatFloat(v, 64)
	case float32:
		s = formatFloat(float64(v), 32)
	case bool:
		s = strconv.FormatBool(v)
	case time.Time:
		switch {
		case dbType == "DATE":
			s = v.Format(time.DateOnly)
		case strings.Contains(dbType, "TZ") || strings.Contains(dbType, "WITH TIME ZONE"):
			s = v.UTC().Format("2006-01-02 15:04:05.999999999Z07:00")
		default:
			s = v.Format("2006-01-02 15:04:05.999999999")
		}
	default:
		s = fmt.Sprint(v)
	}
	return sql.NullString{String: s, Valid: true}
}

// formatFloat writes f without an exponent where that stays short, as a
// database prints it, so that 1234567 does not become 1.234567e+06.
func formatFloat(f float64, bits int) string {
	if a := math.Abs(f); a == 0 || a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// sqlSink inserts records into a node's table, in batches, inside one
// transaction that commit commits and abort rolls back: a failed copy
// leaves no rows behind.
type sqlSink struct {
	db      *openDB
	node    *Object
	tx      *sql.Tx
	dialect sqlconn.Dialect

	// With the node's insertQuery: one row per execution of stmt, whose
	// placeholders must number the record's fields.
	stmt   *sql.Stmt
	params int

	// Otherwise: INSERT INTO table [(columns)] VALUES (…), (…), …, batch
	// rows at a time.
	table  string
	cols   []string
	batch  int
	width  int // fields per record, from the first
	buf    []any
	rows   int // rows in buf
	stmts  map[int]*sql.Stmt
	n      int // records written
	closed bool
}

// maxParams bounds the placeholders of one batch INSERT, under the
// smallest limit of the databases culvert reaches (SQLite's 32766).
const maxParams = 30000

func openSQLSink(ctx context.Context, job *Job, o *Object, cols []string, batch int) (sink, error) {
	d, te := nodeDatabase(job.Task, job.Databases, o)
	if te != nil {
		return nil, te
	}
	table, te := sqlTable(o)
	if te != nil {
		return nil, te
	}
	insert, _ := o.String("insertQuery")
	params := 0
	if insert != "" {
		stmts, err := sqlconn.SplitScript(d.Dialect(), insert)
		if err != nil || len(stmts) != 1 {
			return nil, failf("InvalidTaskObject", "output %s %s: insertQuery must be one SQL statement", o.Type(), o.ID)
		}
		params = stmts[0].Params
	}
	db, err := connect(ctx, job, d)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (sink, error) {
		db.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if create, _ := o.String("createTableSql"); create != "" {
		exists, err := tableExists(ctx, db.DB, d.Dialect(), table)
		if err != nil {
			return fail(failf("SqlStatementFailed", "output %s %s: does %s exist? %v", o.Type(), o.ID, table, err))
		}
		if !exists {
			job.Logger.Info("runner: creating the table with createTableSql", "table", table)
			if _, err := db.ExecContext(ctx, create); err != nil {
				return fail(failf("SqlStatementFailed", "output %s %s: createTableSql: %v", o.Type(), o.ID, err))
			}
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail(failf("ConnectionFailed", "output %s %s: begin a transaction: %v", o.Type(), o.ID, err))
	}
	s := &sqlSink{db: db, node: o, tx: tx, dialect: d.Dialect(), table: table, cols: cols, stmts: map[int]*sql.Stmt{}}
	if insert != "" {
		s.params = params
		if s.stmt, err = tx.PrepareContext(ctx, sqlconn.Rebind(d.Dialect(), insert)); err != nil {
			s.abort()
			return fail(failf("SqlStatementFailed", "output %s %s: insertQuery: %v", o.Type(), o.ID, err))
		}
		job.Logger.Info("runner: writing output", "node", o.ID, "insert", excerpt(insert), "database", d)
	} else {
		s.batch = batch
		if s.batch <= 0 {
			s.batch = 500
		}
		job.Logger.Info("runner: writing output", "node", o.ID, "table", table, "columns", cols, "database", d)
	}
	return s, nil
}

func (s *sqlSink) write(ctx context.Context, rec record) error {
	s.n++
	args := make([]any, len(rec))
	for i, f := range rec {
		if f.Valid {
			args[i] = f.String
		}
	}
	if s.stmt != nil {
		if len(args) != s.params {
			return failf("InvalidRecord", "output %s %s: record %d has %d fields, and insertQuery %d ? placeholders", s.node.Type(), s.node.ID, s.n, len(args), s.params)
		}
		if _, err := s.stmt.ExecContext(ctx, args...); err != nil {
			return s.stmtError(ctx, fmt.Sprintf("record %d", s.n), err)
		}
		return nil
	}
	if s.width == 0 {
		s.width = len(rec)
		if len(s.cols) > 0 && len(s.cols) != s.width {
			return failf("InvalidRecord", "output %s %s: record %d has %d fields, and the input's format %d columns", s.node.Type(), s.node.ID, s.n, len(rec), len(s.cols))
		}
	}
	if len(rec) != s.width {
		return failf("InvalidRecord", "output %s %s: record %d has %d fields; the first had %d", s.node.Type(), s.node.ID, s.n, len(rec), s.width)
	}
	s.buf = append(s.buf, args...)
	s.rows++
	if s.rows >= s.batch || (s.rows+1)*s.width > maxParams {
		return s.flush(ctx)
	}
	return nil
}

// flush inserts the buffered rows with one statement.
func (s *sqlSink) flush(ctx context.Context) error {
	if s.rows == 0 {
		return nil
	}
	stmt := s.stmts[s.rows]
	if stmt == nil {
		var err error
		if stmt, err = s.tx.PrepareContext(ctx, s.insertSQL(s.rows)); err != nil {
			return s.stmtError(ctx, "INSERT", err)
		}
		s.stmts[s.rows] = stmt
	}
	if _, err := stmt.ExecContext(ctx, s.buf...); err != nil {
		return s.stmtError(ctx, fmt.Sprintf("records %d to %d", s.n-s.rows+1, s.n), err)
	}
	s.buf, s.rows = s.buf[:0], 0
	return nil
}

// insertSQL is the INSERT of rows rows, with placeholders as the
// dialect's driver takes them.
func (s *sqlSink) insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + s.table)
	if len(s.cols) > 0 {
		b.WriteString(" (" + strings.Join(s.cols, ", ") + ")")
	}
	b.WriteString(" VALUES ")
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", s.width), ", ") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return sqlconn.Rebind(s.dialect, b.String())
}

func (s *sqlSink) stmtError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return failf("SqlStatementFailed", "output %s %s: inserting %s into %s: %v; nothing was written", s.node.Type(), s.node.ID, what, s.table, err)
}

func (s *sqlSink) commit(ctx context.Context) error {
	if s.stmt == nil {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	s.closed = true
	err := s.tx.Commit()
	s.db.Close()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failf("SqlStatementFailed", "output %s %s: commit: %v", s.node.Type(), s.node.ID, err)
	}
	return nil
}

func (s *sqlSink) abort() {
	if s.closed {
		return
	}
	s.closed = true
	s.tx.Rollback()
	s.db.Close()
}

// tableExists reports whether table (perhaps schema-qualified) is a table
// or view the connection can see.
func tableExists(ctx context.Context, db *sql.DB, d sqlconn.Dialect, table string) (bool, error) {
	var n int
	var err error
	switch d {
	case sqlconn.PostgreSQL:
		// to_regclass reads the name as SQL would, search_path and
		// quoting included, and is NULL rather than an error when the
		// table is missing.
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT to_regclass($1) AS c) x WHERE c IS NOT NULL", table).Scan(&n)
	case sqlconn.MySQL:
		schema, name, qualified := strings.Cut(table, ".")
		if !qualified {
			schema, name = "", table
		}
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ?",
			unquote(schema), unquote(name)).Scan(&n)
	case sqlconn.SQLite:
		schema, name, qualified := strings.Cut(table, ".")
		if !qualified {
			schema, name = "main", table
		}
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_list WHERE schema = ? AND name = ? AND type IN ('table', 'view', 'virtual')",
			unquote(schema), unquote(name)).Scan(&n)
	default:
		return false, errors.New("unknown SQL dialect")
	}
	return n > 0, err
}

// unquote removes the quotes around a quoted identifier.
func unquote(id string) string {
	if len(id) >= 2 && strings.ContainsRune("\"`[", rune(id[0])) {
		return id[1 : len(id)-1]
	}
	return id
}

// excerpt is the start of a query, for messages.
func excerpt(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 80 {
		q = q[:77] + "..."
	}
	return q
}
