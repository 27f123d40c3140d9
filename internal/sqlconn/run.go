package sqlconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// ErrEmptyScript is returned by [RunScript] for a script with no
// statements: a SqlActivity that does nothing is a mistake worth a failed
// attempt.
var ErrEmptyScript = errors.New("script has no SQL statements")

// StatementError is a statement of a script that failed.
type StatementError struct {
	N       int    // which statement, from 1
	Line    int    // the script line it begins on
	Excerpt string // its start, whitespace collapsed
	Err     error  // the database's error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("statement %d (line %d: %s): %v", e.N, e.Line, e.Excerpt, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }

// Result says what a script did.
type Result struct {
	Statements   int   // statements run
	RowsAffected int64 // summed over the statements that report it
}

// RunScript runs a SqlActivity script on db the way AWS's Task Runner runs
// one through JDBC: statement by statement on one connection, each
// committed as it completes (autocommit), stopping at the first that
// fails. Statements that ran before a failure stay committed. A script
// that wants all or nothing says so itself, with BEGIN … COMMIT (START
// TRANSACTION in MySQL), and since every statement runs on the same
// session, that works, as do SET and temporary tables; DDL that cannot run
// in a transaction (CREATE DATABASE, VACUUM) works too. Afterwards the
// connection is closed rather than returned to db's pool, so a
// transaction the script left open is rolled back and no session state
// reaches the next user.
//
// args are the scriptArgument values. With none, statements run as
// written, and a ? in them is whatever the database makes of it (an
// operator in PostgreSQL). With some, every ? outside literals and
// comments is a placeholder, filled in script order across statements
// ([Rebind] says how ?? reads in PostgreSQL); the number of placeholders
// must equal the number of arguments, which is checked before anything
// runs.
//
// It returns an error, with no statement run, when the script does not
// split ([SplitScript]), is empty ([ErrEmptyScript]) or its placeholders
// do not match args; a *[StatementError] when a statement fails; and
// otherwise an error when no connection could be had.
func RunScript(ctx context.Context, db *sql.DB, d Dialect, script string, args []string) (Result, error) {
	stmts, err := SplitScript(d, script)
	if err != nil {
		return Result{}, fmt.Errorf("split script: %w", err)
	}
	if len(stmts) == 0 {
		return Result{}, ErrEmptyScript
	}
	if len(args) > 0 {
		params := 0
		for _, st := range stmts {
			params += st.Params
		}
		if params != len(args) {
			return Result{}, fmt.Errorf("script has %d ? placeholders and %d scriptArgument values; they must match", params, len(args))
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("get a connection: %w", err)
	}
	defer func() {
		// Telling database/sql the connection is bad is how it is closed
		// instead of pooled.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}()
	var r Result
	next := 0 // first argument not yet bound
	for i, st := range stmts {
		query, bound := st.Text, []any(nil)
		if len(args) > 0 {
			query = st.rebind(d)
			for _, a := range args[next : next+st.Params] {
				bound = append(bound, a)
			}
			next += st.Params
		}
		res, err := conn.ExecContext(ctx, query, bound...)
		if err != nil {
			return r, &StatementError{N: i + 1, Line: st.Line, Excerpt: st.excerpt(), Err: err}
		}
		r.Statements++
		if n, err := res.RowsAffected(); err == nil && n > 0 {
			r.RowsAffected += n
		}
	}
	return r, nil
}
