package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/postgres"
	"github.com/culvert/culvert/internal/store/sqlite"
)

// openStore opens the store serve runs on: PostgreSQL when databaseURL is
// set, which several nodes may share, and otherwise the SQLite database
// in dataDir, which this process owns. It returns the store and the name
// of its kind, for logs and /healthz.
func openStore(ctx context.Context, databaseURL, dataDir string, logger *slog.Logger) (store.Store, string, error) {
	if databaseURL != "" {
		db, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Logger: logger})
		if err != nil {
			return nil, "", fmt.Errorf("serve: %w", err)
		}
		return db, "postgres", nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("serve: data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dataDir, "culvert.db"), Logger: logger})
	if err != nil {
		return nil, "", err
	}
	return db, "sqlite", nil
}

// migrateCommand is `culvert migrate`: it brings a PostgreSQL database's
// schema up to this build's, alone, so that a deploy pipeline can migrate
// once before it rolls new nodes out. (serve migrates at start-up too,
// under the same lock, so running it is never required.)
type migrateCommand struct {
	main *Main
}

func (c *migrateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("culvert migrate", flag.ContinueOnError)
	fs.SetOutput(c.main.Stderr)
	var databaseURL, logLevel string
	fs.StringVar(&databaseURL, "database-url", "", "PostgreSQL `URL` (postgres://user:password@host:port/database) to migrate")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected argument %q", fs.Arg(0))
	}
	if err := applyEnv(fs, c.main.Getenv); err != nil {
		return err
	}
	if databaseURL == "" {
		return errors.New("migrate: --database-url (or CULVERT_DATABASE_URL) is required; SQLite databases migrate when serve opens them")
	}
	logger, err := newLogger(c.main, logLevel)
	if err != nil {
		return err
	}
	applied, err := postgres.Migrate(ctx, databaseURL, logger)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(c.main.Stdout, "the schema is up to date")
		return nil
	}
	for _, m := range applied {
		fmt.Fprintln(c.main.Stdout, "applied", m)
	}
	return nil
}
