package pgtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func databaseExists(t *testing.T, srv *Server, name string) bool {
	t.Helper()
	var n int
	admin := connect(t, srv.DSN("postgres"))
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// Each test gets its own empty database, which is gone once the test ends
// even if a connection to it is still open.
func TestNew(t *testing.T) {
	ctx := context.Background()
	got := make(chan Database, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				db := NewDatabase(t)
				got <- db
				conn := connect(t, db.DSN())
				var current string
				if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
					t.Fatal(err)
				}
				if current != db.Name {
					t.Errorf("current_database() = %q, want %q", current, db.Name)
				}
				// The same table name in both databases: they are apart.
				if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
					t.Fatal(err)
				}
				// Left open on purpose: the drop must end it.
				leak, err := pgx.Connect(ctx, db.DSN())
				if err != nil {
					t.Fatal(err)
				}
				_ = leak
			})
		}
	})
	close(got)
	var names []string
	for db := range got {
		names = append(names, db.Name)
		if databaseExists(t, db.Server, db.Name) {
			t.Errorf("database %s still exists after its test ended", db.Name)
		}
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Errorf("databases %q, want two different ones", names)
	}
}

// TCP asks for the server's password; the socket does not.
func TestURL(t *testing.T) {
	ctx := context.Background()
	db := NewDatabase(t)
	conn := connect(t, db.URL())
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	wrong := fmt.Sprintf("postgres://postgres:wrong@%s:%d/%s?sslmode=disable", db.Server.Host, db.Server.Port, db.Name)
	if c, err := pgx.Connect(ctx, wrong); err == nil {
		c.Close(ctx)
		t.Error("connected over TCP with a wrong password")
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the goroutine.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		env                  string
		wantSkip, wantFailed bool
	}{
		{env: "", wantSkip: true},
		{env: "yes", wantSkip: true},
		{env: "required", wantFailed: true},
	} {
		t.Run("CULVERT_TEST_POSTGRES="+tc.env, func(t *testing.T) {
			t.Setenv("CULVERT_TEST_POSTGRES", tc.env)
			r := &recorder{TB: t}
			unavailable(r, errors.New("no initdb here"))
			if (r.skipped != "") != tc.wantSkip || (r.fatal != "") != tc.wantFailed {
				t.Fatalf("skipped %q, failed %q; want skip %v, fail %v", r.skipped, r.fatal, tc.wantSkip, tc.wantFailed)
			}
			if msg := r.skipped + r.fatal; !strings.Contains(msg, "no initdb here") {
				t.Errorf("message %q does not give the reason", msg)
			}
		})
	}
}

func TestStartWithoutBinaries(t *testing.T) {
	_, err := start(context.Background(), config{binDir: t.TempDir(), tmpRoot: os.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "initdb") {
		t.Fatalf("start with no binaries: %v, want an initdb error", err)
	}
}

func TestDatabaseName(t *testing.T) {
	for _, tc := range []struct {
		test string
		n    int
		want string
	}{
		{"TestX", 1, "t_testx_1"},
		{"TestX/sub case#01", 12, "t_testx_sub_case_01_12"},
		{"TestÜber", 2, "t_test_ber_2"},
		{strings.Repeat("TestLong", 20), 999999, "t_testlongtestlongtestlongtestlongtestlo_999999"},
	} {
		if got := databaseName(tc.test, tc.n); got != tc.want {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tc.test, tc.n, got, tc.want)
		}
		if len(databaseName(tc.test, tc.n)) > 63 {
			t.Errorf("databaseName(%q) is longer than PostgreSQL allows", tc.test)
		}
	}
}

// The helper modes of TestHelperProcess: a test binary that starts a
// server and then ends badly.
const helperEnv = "PGTEST_HELPER"

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper for TestServerDiesWithBinary")
	}
	db := NewDatabase(t)
	fmt.Printf("PGTEST pid=%d dir=%s\n", db.Server.PID(), db.Server.dir)
	switch mode {
	case "panic":
		panic("deliberate panic in a test using pgtest")
	case "fail":
		t.Fatal("deliberate failure in a test using pgtest")
	}
}

// No postgres outlives its test binary: not when a test fails (Main stops
// the server), not when one panics (the kernel kills the server, and the
// next start removes its files).
func TestServerDiesWithBinary(t *testing.T) {
	for _, mode := range []string{"fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
			cmd.Env = append(os.Environ(), helperEnv+"="+mode, "CULVERT_TEST_POSTGRES=required")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err == nil {
				t.Fatalf("helper succeeded; want it to %s:\n%s", mode, out.String())
			}
			var pid int
			var dir string
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				if _, err := fmt.Sscanf(sc.Text(), "PGTEST pid=%d dir=%s", &pid, &dir); err == nil {
					break
				}
			}
			if pid == 0 {
				t.Fatalf("helper did not report its server:\n%s", out.String())
			}
			// The postmaster is not our child, so it cannot be waited for;
			// poll for it to be gone.
			deadline := time.Now().Add(20 * time.Second)
			for alive(pid) && isPostgres(pid) {
				if time.Now().After(deadline) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Fatalf("postmaster %d outlived its test binary (%s)", pid, mode)
				}
				time.Sleep(10 * time.Millisecond)
			}
			_, err = os.Stat(dir)
			switch mode {
			case "fail":
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after a failed test, server directory %s: %v; want it removed", dir, err)
				}
			case "panic":
				if err != nil {
					t.Fatalf("after a panic, server directory %s: %v; want it left for the next start", dir, err)
				}
				sweep(filepath.Dir(dir))
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("sweep left %s of an exited binary: %v", dir, err)
				}
			}
		})
	}
}

// isPostgres reports whether pid is still a postgres process, not a
// recycled pid.
func isPostgres(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return err == nil && strings.HasPrefix(string(b), "postgres")
}

// sweep leaves the directory of a binary that is still running.
func TestSweepKeepsLiveOwners(t *testing.T) {
	root := t.TempDir()
	live := filepath.Join(root, dirPrefix+"live")
	dead := filepath.Join(root, dirPrefix+"dead")
	other := filepath.Join(root, "something-else")
	// Just made by a start that has not written its owner file yet, and
	// left so by a start that died a while ago.
	starting := filepath.Join(root, dirPrefix+"starting")
	abandoned := filepath.Join(root, dirPrefix+"abandoned")
	for _, d := range []string{live, dead, other, starting, abandoned} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(abandoned, old, old); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(live, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
	// A process that has exited and been reaped: its pid names no one
	// (until the kernel reuses it, which it does not do at once).
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	os.WriteFile(filepath.Join(dead, ownerFile), []byte(strconv.Itoa(exited.Process.Pid)), 0o644)
	sweep(root)
	for dir, want := range map[string]bool{live: true, dead: false, other: true, starting: true, abandoned: false} {
		_, err := os.Stat(dir)
		if got := err == nil; got != want {
			t.Errorf("after sweep, %s exists = %v, want %v", filepath.Base(dir), got, want)
		}
	}
}

// Run as a user who is not root, pgtest runs PostgreSQL as that user.
// Shown by running this package's TestNew as the postgres user.
func TestAsNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("already not root: every other test here shows it")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("no postgres user to run as:", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The test binary lives in a directory only root may enter.
	dir, err := os.MkdirTemp("", "culvert-pgtest-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "pgtest.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestNew$", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=/tmp", "CULVERT_TEST_POSTGRES=required"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestNew")) {
		t.Fatalf("TestNew as the postgres user: %v\n%s", err, out)
	}
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// TestRestart checks that a server of a test's own comes back on the same
// address after a restart and after a crash, with what it acknowledged.
func TestRestart(t *testing.T) {
	t.Parallel()
	srv := StartServer(t, ServerOptions{Durable: true})
	ctx := t.Context()
	db, err := srv.CreateDatabase(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	insert := func(v int) {
		t.Helper()
		conn, err := pgx.Connect(ctx, db.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS kept (v int)`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO kept VALUES ($1)`, v); err != nil {
			t.Fatal(err)
		}
	}
	insert(1)
	if err := srv.Restart(ctx, false); err != nil {
		t.Fatalf("Restart() = %v", err)
	}
	insert(2)
	if err := srv.Restart(ctx, true); err != nil {
		t.Fatalf("Restart(crash) = %v", err)
	}
	conn, err := pgx.Connect(ctx, db.URL())
	if err != nil {
		t.Fatalf("connect after the crash: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM kept`).Scan(&n); err != nil || n != 2 {
		t.Errorf("rows after a restart and a crash = %d, %v; want 2", n, err)
	}
}
