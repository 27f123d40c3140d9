// Package pgtest gives tests a real, throwaway PostgreSQL: one server per
// test binary, started from the PostgreSQL binaries installed on the
// machine the first time a test asks for it, and a fresh database per test.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.New(t) // a new empty database, dropped when t ends
//		db, err := sql.Open("pgx", dsn)
//		…
//	}
//
// The server runs initdb and postgres from CULVERT_TEST_PGBIN, or else
// /usr/lib/postgresql/15/bin, or else the newest /usr/lib/postgresql/*/bin,
// or else the directory of initdb on PATH. PostgreSQL refuses to run as
// root, so when the test binary is root the server runs as the system user
// "postgres"; as any other user it runs as that user. Its data directory
// and unix socket live in a private directory under os.TempDir (not
// t.TempDir, whose root-only parent the postgres user could not enter). The
// server is tuned for tests, not durability: fsync, synchronous_commit and
// full_page_writes are off, shared_buffers is small, autovacuum and JIT are
// off.
//
// The server listens on its unix socket, which [Server.DSN] uses and which
// trusts every local user, and on 127.0.0.1 at a port the kernel picked as
// free, which asks for a password ([Server.URL] carries it). TCP is there
// for code under test that needs a host and port, a JDBC URL for one.
//
// When PostgreSQL cannot be started (no binaries, no postgres user to run
// as), every test that asks for it is skipped with the reason, unless the
// environment variable CULVERT_TEST_POSTGRES is "required", which makes it
// a failure: CI sets it so that a broken install cannot pass as a green run.
//
// # No server outlives its test binary
//
// [Main] (or [Stop], from a TestMain that does more) shuts the server down
// and removes its directory when the tests end. That path is not taken when
// a test panics, times out or the binary is killed, so the server is also
// tied to the binary by the kernel: postgres is started directly (not
// daemonized through pg_ctl) with a parent-death signal of SIGKILL, and its
// own children exit when they see the postmaster gone. A directory left
// behind that way is removed by the next server start on the machine, once
// the binary that owned it has exited.
//
// The one server and its state are package-level because they belong to
// the test binary, not to any one test.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// shared is the test binary's server. The mutex is held while the server
// starts, so tests that ask at the same time wait for the one start.
var shared struct {
	mu      sync.Mutex
	srv     *Server
	err     error // why the server could not be started; sticky
	stopped bool
	dbs     int // databases created, for unique names
}

// Database is one test's database on the shared server.
type Database struct {
	Server *Server
	Name   string
}

// DSN returns the database's connection string in keyword/value form, over
// the unix socket.
func (d Database) DSN() string { return d.Server.DSN(d.Name) }

// URL returns a postgres:// URL for the database over TCP, with the
// password.
func (d Database) URL() string { return d.Server.URL(d.Name) }

// New creates an empty database for t on the shared server, starting the
// server if this is the binary's first use, and returns its connection
// string ([Database.DSN]). The database is dropped when t ends, with any
// connections still open to it. New skips t, or fails it when
// CULVERT_TEST_POSTGRES=required, if PostgreSQL cannot be started.
func New(t testing.TB) string {
	t.Helper()
	return NewDatabase(t).DSN()
}

// NewDatabase is [New] for tests that need the database's name or the
// server's address, not just a connection string.
func NewDatabase(t testing.TB) Database {
	t.Helper()
	srv, name, err := createDatabase(t)
	if err != nil {
		unavailable(t, err)
		return Database{} // reached only when t's Skip or Fatal is faked
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.exec(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(name)+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return Database{Server: srv, Name: name}
}

// createDatabase starts the server if need be and creates a database named
// after t.
func createDatabase(t testing.TB) (*Server, string, error) {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	switch {
	case shared.stopped:
		return nil, "", fmt.Errorf("the server was already stopped (pgtest.Stop)")
	case shared.err != nil:
		return nil, "", shared.err
	case shared.srv == nil:
		began := time.Now()
		srv, err := start(context.Background(), defaultConfig())
		if err != nil {
			shared.err = err
			return nil, "", err
		}
		shared.srv = srv
		t.Logf("pgtest: started PostgreSQL %s as %s in %v (initdb %v), socket %s, TCP %s:%d",
			srv.Version, srv.osUser, time.Since(began).Round(time.Millisecond), srv.initdbTook.Round(time.Millisecond),
			srv.SocketDir, srv.Host, srv.Port)
	}
	shared.dbs++
	name := databaseName(t.Name(), shared.dbs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := shared.srv.exec(ctx, `CREATE DATABASE `+quoteIdent(name)+shared.srv.createOptions); err != nil {
		return nil, "", fmt.Errorf("create database %s: %w", name, err)
	}
	return shared.srv, name, nil
}

// ServerOptions configure a server of a test's own ([StartServer]).
type ServerOptions struct {
	// Durable keeps every commit the server acknowledges across a crash
	// of the server (synchronous_commit on); the shared server does not
	// wait for its log, which is faster.
	Durable bool
}

// StartServer starts a server for t alone, stopped and removed when t
// ends: for tests that restart or crash it ([Server.Restart]), which the
// shared server's other tests would not survive. It skips or fails t like
// [New] if PostgreSQL cannot be started.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	cfg := defaultConfig()
	cfg.durable = opts.Durable
	began := time.Now()
	srv, err := start(context.Background(), cfg)
	if err != nil {
		unavailable(t, err)
		return nil
	}
	t.Logf("pgtest: started a PostgreSQL of its own in %v, TCP %s:%d", time.Since(began).Round(time.Millisecond), srv.Host, srv.Port)
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv
}

// CreateDatabase creates an empty database on s, kept until s stops.
func (s *Server) CreateDatabase(ctx context.Context, name string) (Database, error) {
	if err := s.exec(ctx, `CREATE DATABASE `+quoteIdent(name)+s.createOptions); err != nil {
		return Database{}, fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return Database{Server: s, Name: name}, nil
}

// Required reports whether CULVERT_TEST_POSTGRES asks for PostgreSQL tests
// to fail rather than skip when no server can be started.
func Required() bool { return os.Getenv("CULVERT_TEST_POSTGRES") == "required" }

// unavailable skips or fails t because PostgreSQL could not be had.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("pgtest: PostgreSQL is required (CULVERT_TEST_POSTGRES=required) but unavailable: %v", err)
		return
	}
	t.Skipf("pgtest: SKIPPING, PostgreSQL unavailable: %v (set CULVERT_TEST_POSTGRES=required to fail instead)", err)
}

// Main runs the tests of a package that uses pgtest, stops the server and
// exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop shuts the shared server down, if it was started, and removes its
// directory. It is for a TestMain that cannot use [Main]; after it, [New]
// no longer works. It returns an error if the server did not stop cleanly
// or its directory could not be removed.
func Stop() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.stopped = true
	if shared.srv == nil {
		return nil
	}
	err := shared.srv.stop()
	shared.srv = nil
	return err
}

// databaseName makes a database name from a test name, readable in the
// server's log and unique within the binary (PostgreSQL names have at most
// 63 bytes).
func databaseName(test string, n int) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	fmt.Fprintf(&b, "_%d", n)
	return b.String()
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
