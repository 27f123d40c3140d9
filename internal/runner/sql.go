package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/culvert/culvert/internal/sqlconn"
)

// openDB is a connected database and how it was reached.
type openDB struct {
	*sql.DB
	d sqlconn.Database
}

// maxScript bounds the size of a script read from scriptUri.
const maxScript = 16 << 20

// SQL runs SqlActivity tasks (spec §3.3): the script (script, or the file
// scriptUri names on S3 or locally) against the activity's database (a
// JdbcDatabase, RdsDatabase or RedshiftDatabase, through
// [Job.Databases]), statement by statement as AWS's Task Runner runs it
// through JDBC, with the scriptArgument values bound to the ? placeholders
// in order (docs/assumptions/0017-databases.md). For a Redshift database,
// queue sets the session's query_group first.
//
// A script that runs to its end is FINISHED. Otherwise the task is FAILED
// with errorId InvalidDatabase (the database object cannot be used),
// ScriptUnavailable (scriptUri cannot be read), InvalidScript (it does not
// split, is empty, or its placeholders do not match the arguments; nothing
// ran), ConnectionFailed, or SqlStatementFailed naming the statement that
// failed, whose predecessors stay committed unless the script wrapped them
// in a transaction. No message holds a password.
type SQL struct{}

// oneOf returns the value of the attempt's field inline, or else of its
// field uri, failing the task unless exactly one of them is set: a
// command or script is given either inline or by URI.
func oneOf(t *Task, inline, uri string) (inlineValue, uriValue string, err error) {
	a := t.Attempt()
	iv, hasInline := a.String(inline)
	uv, hasURI := a.String(uri)
	switch {
	case hasInline && hasURI:
		return "", "", failf("InvalidTaskObject", "%s sets both %s and %s; it must set one", t.ComponentID(), inline, uri)
	case !hasInline && !hasURI:
		return "", "", failf("InvalidTaskObject", "%s sets neither %s nor %s; it must set one", t.ComponentID(), inline, uri)
	case hasURI && uv == "":
		return "", "", failf("InvalidTaskObject", "%s sets an empty %s", t.ComponentID(), uri)
	}
	return iv, uv, nil
}

// Execute implements [Executor].
func (SQL) Execute(ctx context.Context, job *Job) error {
	t := job.Task
	a := t.Attempt()
	script, scriptURI, err := oneOf(t, "script", "scriptUri")
	if err != nil {
		return err
	}
	hasURI := scriptURI != ""
	args := a.Strings("scriptArgument")
	dbObj, err := t.Follow(a, "database")
	if err != nil {
		return failf("InvalidTaskObject", "%s needs a database: %v", t.ComponentID(), err)
	}
	d, err := job.Databases.FromObject(dbObj.FieldMap())
	if err != nil {
		return failf("InvalidDatabase", "database %s: %v", dbObj.ID, err)
	}
	if hasURI {
		if script, err = readScript(ctx, job.Files, scriptURI); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return failf("ScriptUnavailable", "scriptUri %s: %v", scriptURI, err)
		}
	}
	// Check the script before connecting, so that a broken one fails
	// the same way whether or not the database is up.
	stmts, err := sqlconn.SplitScript(d.Dialect(), script)
	if err != nil {
		return failf("InvalidScript", "%v", err)
	}
	if len(stmts) == 0 {
		return failf("InvalidScript", "the script has no SQL statements")
	}
	if len(args) > 0 {
		params := 0
		for _, st := range stmts {
			params += st.Params
		}
		if params != len(args) {
			return failf("InvalidScript", "the script has %d ? placeholders and the activity %d scriptArgument values; they must match", params, len(args))
		}
	}

	db, err := connect(ctx, job, d)
	if err != nil {
		return err
	}
	defer db.Close()
	if queue, ok := a.String("queue"); ok && queue != "" {
		if !d.Redshift() {
			job.Logger.Warn("runner: queue is Amazon Redshift's query_group; ignored for this database", "database", d)
		} else {
			// One connection, so that RunScript's session is the one
			// the query group was set on.
			db.SetMaxOpenConns(1)
			db.SetMaxIdleConns(1)
			if _, err := db.ExecContext(ctx, "SET query_group TO '"+strings.ReplaceAll(queue, "'", "''")+"'"); err != nil {
				return failf("SqlStatementFailed", "SET query_group for queue %q: %v", queue, err)
			}
		}
	}
	job.Logger.Info("runner: running the script", "statements", len(stmts), "arguments", len(args), "database", d)
	res, err := sqlconn.RunScript(ctx, db.DB, d.Dialect(), script, args)
	var stErr *sqlconn.StatementError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &stErr):
		job.Logger.Info("runner: statement failed", "ran", stErr.N-1, "of", len(stmts))
		return failf("SqlStatementFailed", "%s: %v", d, err)
	default:
		return failf("ConnectionFailed", "%s: %v", d, err)
	}
	job.Logger.Info("runner: script finished", "statements", res.Statements, "rows_affected", res.RowsAffected)
	return nil
}

// readScript reads the script at uri, up to maxScript bytes.
func readScript(ctx context.Context, files Files, uri string) (string, error) {
	rc, err := files.Get(ctx, uri)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxScript+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxScript {
		return "", fmt.Errorf("larger than %d MiB", maxScript>>20)
	}
	return string(b), nil
}
