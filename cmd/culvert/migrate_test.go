package main

import (
	"context"
	"strings"
	"testing"

	"github.com/culvert/culvert/internal/pgtest"
)

// TestMigrateCommand runs `culvert migrate` as a deploy pipeline would:
// the first run applies the migrations, the next finds nothing to do, and
// a node then starts on the migrated database.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	run := func(env func(string) string, args ...string) (string, error) {
		var out lockedBuffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: env}
		err := m.Run(context.Background(), append([]string{"migrate"}, args...))
		return out.String(), err
	}
	out, err := run(noEnv, "--database-url", db.URL())
	if err != nil || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("first culvert migrate = %v:\n%s", err, out)
	}
	// The URL may come from the environment, as with serve.
	env := func(k string) string {
		if k == "CULVERT_DATABASE_URL" {
			return db.URL()
		}
		return ""
	}
	if out, err := run(env); err != nil || !strings.Contains(out, "the schema is up to date") {
		t.Fatalf("second culvert migrate = %v:\n%s", err, out)
	}
	if _, err := run(noEnv); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Errorf("culvert migrate without a database = %v, want an error naming --database-url", err)
	}
	srv := mustRunServer(t, "--database-url", db.URL())
	h, err := nodeHealth(srv.URL)
	if err != nil || h.Store != "postgres" || !h.Leader.Shared {
		t.Errorf("a node on the migrated database: %+v, %v", h, err)
	}
}
