package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock that migrations run
// under, so that nodes starting at once apply each migration once: the
// first takes the lock and migrates, the others wait for it and then find
// nothing left to do. It is "culvert" in ASCII.
const migrationLock int64 = 0x63756c76657274

// Migrate applies the embedded migrations that the database at url lacks,
// each in its own transaction with its row in schema_migrations, and
// returns the versions it applied (none if the schema was current). It is
// what Open does unless Config.SkipMigrate, for a `culvert migrate` step.
// A nil logger means slog.Default().
func Migrate(ctx context.Context, url string, logger *slog.Logger) (applied []string, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return migrate(ctx, pcfg.ConnConfig, logger)
}

// versions returns the embedded migrations' versions (their file names
// without .sql) in the order they apply.
func versions() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
	}
	slices.Sort(out)
	return out, nil
}

func migrate(ctx context.Context, cc *pgx.ConnConfig, log *slog.Logger) ([]string, error) {
	all, err := versions()
	if err != nil {
		return nil, err
	}
	// A connection of its own: the advisory lock belongs to the session,
	// and ends with it should this process die while migrating.
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", failed(ctx, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", failed(ctx, err))
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("postgres: schema_migrations: %w", failed(ctx, err))
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, v := range all {
		if done[v] {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + v + ".sql")
		if err != nil {
			return applied, err
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v)
			return err
		}); err != nil {
			return applied, fmt.Errorf("postgres: migration %s: %w", v, failed(ctx, err))
		}
		log.Info("postgres: applied migration", "version", v)
		applied = append(applied, v)
	}
	return applied, nil
}

// checkSchema fails unless every embedded migration has been applied.
func checkSchema(ctx context.Context, cc *pgx.ConnConfig, log *slog.Logger) error {
	all, err := versions()
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", failed(ctx, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: schema_migrations: %w", failed(ctx, err))
	}
	done := map[string]bool{}
	if exists {
		if done, err = appliedVersions(ctx, conn); err != nil {
			return err
		}
	}
	var missing []string
	for _, v := range all {
		if !done[v] {
			missing = append(missing, v)
		}
		delete(done, v)
	}
	if len(missing) > 0 {
		return fmt.Errorf("postgres: the database schema is behind this culvert (migrations %s not applied); run culvert migrate, or start without skipping migrations",
			strings.Join(missing, ", "))
	}
	for v := range done {
		log.Warn("postgres: the database has a migration this culvert does not know; a newer culvert migrated it", "version", v)
	}
	return nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("postgres: schema_migrations: %w", failed(ctx, err))
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: schema_migrations: %w", failed(ctx, err))
	}
	done := make(map[string]bool, len(vs))
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
}
