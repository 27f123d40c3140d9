package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL started by pgtest. Its fields describe how
// to reach it; they are not to be changed.
type Server struct {
	Host      string // TCP address, always 127.0.0.1
	Port      int    // TCP port; also names the unix socket in SocketDir
	SocketDir string // directory of the unix socket
	User      string // superuser name, always "postgres"
	Password  string // the superuser's password over TCP (random per server)
	Version   string // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"

	dir     string // private directory: data/, server.log, owner
	osUser  string // who postgres runs as
	binDir  string
	cred    *syscall.Credential
	durable bool
	// createOptions ends every CREATE DATABASE.
	createOptions string
	initdbTook    time.Duration
	cmd           *exec.Cmd
	exited        chan struct{} // closed when the postmaster has exited
	waitErr       error         // the postmaster's exit, set before exited is closed

	mu    sync.Mutex // guards admin
	admin *pgx.Conn  // to the postgres database, for CREATE and DROP DATABASE
}

// DSN returns a keyword/value connection string for database over the
// unix socket, where the superuser needs no password.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteValue(s.SocketDir), s.Port, quoteValue(s.User), quoteValue(database))
}

// URL returns a postgres:// URL for database over TCP, with the
// superuser's password.
func (s *Server) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.User, s.Password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// PID returns the process id of the postmaster.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// quoteValue quotes a value of a keyword/value connection string.
func quoteValue(v string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + `'`
}

// config says where a server comes from; tests of pgtest itself change it.
type config struct {
	binDir  string // "" to search (findBinDir)
	tmpRoot string // parent of the server's private directory
	// durable keeps synchronous_commit on, so that a commit the server
	// acknowledged survives the server's crash (fsync stays off: the
	// machine does not crash in a test, only the server).
	durable bool
}

func defaultConfig() config { return config{tmpRoot: os.TempDir()} }

// ownerFile names the file in a server directory that holds the pid of the
// test binary owning it, so that a later start can tell a leftover.
const ownerFile = "owner"

// dirPrefix begins the name of every server directory.
const dirPrefix = "culvert-pg-"

// start initialises a cluster in a new private directory and runs
// postgres on it until [Server.stop] or the test binary's end.
func start(ctx context.Context, cfg config) (srv *Server, err error) {
	binDir := cfg.binDir
	if binDir == "" {
		if binDir, err = findBinDir(); err != nil {
			return nil, err
		}
	}
	cred, osUser, err := runAs()
	if err != nil {
		return nil, err
	}
	root := cfg.tmpRoot
	// A unix socket path has at most 107 bytes; keep well inside it.
	if len(root) > 60 {
		root = "/tmp"
	}
	sweep(root)
	dir, err := os.MkdirTemp(root, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("make server directory: %w", err)
	}
	defer func() {
		if err != nil {
			if srv != nil && srv.cmd != nil {
				srv.kill()
			}
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("write owner file: %w", err)
	}
	password := randomHex(16)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write password file: %w", err)
	}
	if cred != nil {
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("give %s to %s: %w", p, osUser, err)
			}
		}
	}

	srv = &Server{Host: "127.0.0.1", SocketDir: dir, User: "postgres", Password: password, dir: dir, osUser: osUser,
		binDir: binDir, cred: cred, durable: cfg.durable}
	began := time.Now()
	initdb := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", filepath.Join(dir, "data"), "-U", "postgres", "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile,
		"--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb (as %s): %w\n%s", osUser, err, out)
	}
	srv.initdbTook = time.Since(began)
	os.Remove(pwfile)

	// The kernel's free port can be taken by another socket before postgres
	// binds it; a few tries make that race harmless.
	for try := 1; ; try++ {
		if srv.Port, err = freePort(); err != nil {
			return nil, err
		}
		err = srv.run(ctx)
		if err == nil || !errors.Is(err, errAddrInUse) || try == 3 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := srv.connectAdmin(ctx); err != nil {
		return srv, err
	}
	var num int
	if err := srv.admin.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&srv.Version, &num); err != nil {
		return srv, fmt.Errorf("read server version: %w", err)
	}
	if num >= 150000 {
		// Copying template1's files is about twice as fast as logging them
		// (15's default), and with fsync off the checkpoint it costs is cheap.
		srv.createOptions = " STRATEGY FILE_COPY"
	}
	return srv, nil
}

var errAddrInUse = errors.New("address already in use")

// connectAdmin opens the admin connection.
func (s *Server) connectAdmin(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the server: %w", err)
	}
	s.mu.Lock()
	s.admin = conn
	s.mu.Unlock()
	return nil
}

// run starts the postmaster and waits until it accepts connections.
func (s *Server) run(ctx context.Context) error {
	binDir, cred := s.binDir, s.cred
	commit := "off"
	if s.durable {
		commit = "on"
	}
	logPath := filepath.Join(s.dir, "server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // postgres holds its own descriptor
	data := filepath.Join(s.dir, "data")
	s.cmd = exec.Command(filepath.Join(binDir, "postgres"),
		"-D", data, "-k", s.dir, "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses="+s.Host,
		"-c", "fsync=off", "-c", "synchronous_commit="+commit, "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=200",
		"-c", "autovacuum=off", "-c", "jit=off")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// SIGKILL when the thread that started postgres dies: the kernel ties
	// the parent-death signal to that thread, not to the process, and Go
	// may end a thread whose goroutine locked it. So postgres is started
	// from a goroutine that locks its thread and then stays in Wait for as
	// long as postgres lives; the thread ends only with the process, or
	// after postgres has exited.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	s.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, see above
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		s.cmd = nil
		return fmt.Errorf("start postgres: %w", err)
	}

	pidFile := filepath.Join(data, "postmaster.pid")
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		// pg_ctl -w waits the same way: the postmaster writes "ready" as
		// the eighth line of its pid file once it accepts connections.
		// After a crash the old postmaster's file is still there, so the
		// pid on its first line must be this one's.
		if b, err := os.ReadFile(pidFile); err == nil {
			if lines := strings.Split(string(b), "\n"); len(lines) > 7 && strings.TrimSpace(lines[7]) == "ready" &&
				strings.TrimSpace(lines[0]) == strconv.Itoa(s.cmd.Process.Pid) {
				return nil
			}
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logPath)
			err := fmt.Errorf("postgres exited during start-up (%v):\n%s", s.waitErr, tail(log, 2000))
			if bytes.Contains(log, []byte("Address already in use")) {
				err = fmt.Errorf("%w: %w", errAddrInUse, err)
			}
			s.cmd = nil
			return err
		case <-deadline.C:
			s.kill()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres not ready after 30s:\n%s", tail(log, 2000))
		case <-ctx.Done():
			s.kill()
			return ctx.Err()
		case <-poll.C:
		}
	}
}

// exec runs one statement on the admin connection.
func (s *Server) exec(ctx context.Context, sql string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return errors.New("server stopped")
	}
	_, err := s.admin.Exec(ctx, sql)
	return err
}

// stop shuts the server down (fast shutdown: sessions are ended, nothing
// is flushed that fsync=off would not lose anyway) and removes its
// directory.
func (s *Server) stop() error {
	var errs []error
	s.mu.Lock()
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.admin.Close(ctx))
		cancel()
		s.admin = nil
	}
	s.mu.Unlock()
	if s.cmd != nil {
		if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
			errs = append(errs, fmt.Errorf("signal postgres: %w", err))
		}
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("postgres did not stop within 30s; killed"))
			s.kill()
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove server directory: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	return nil
}

// Restart stops the server and starts it again on the same data, port
// and socket, as an operator's restart would. With crash, the postmaster
// is killed (SIGKILL) rather than shut down, as a crash would end it: a
// server started with [ServerOptions].Durable still has every commit it
// acknowledged. Connections to the server break either way.
func (s *Server) Restart(ctx context.Context, crash bool) error {
	s.mu.Lock()
	if s.admin != nil {
		s.admin.Close(ctx)
		s.admin = nil
	}
	s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("pgtest: server not running")
	}
	if crash {
		s.kill()
		// The postmaster's children notice it is gone and exit; the
		// next postmaster refuses to start while they still hold the
		// shared memory, so it is tried again for a while.
	} else {
		s.cmd.Process.Signal(syscall.SIGINT)
		<-s.exited
	}
	var err error
	for try := 0; try < 100; try++ {
		if err = s.run(ctx); err == nil {
			return s.connectAdmin(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("pgtest: restart: %w", err)
}

// kill ends the postmaster at once and waits for it.
func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
}

// findBinDir finds the directory of initdb and postgres.
func findBinDir() (string, error) {
	if dir := os.Getenv("CULVERT_TEST_PGBIN"); dir != "" {
		if !isExec(filepath.Join(dir, "initdb")) {
			return "", fmt.Errorf("CULVERT_TEST_PGBIN=%s has no initdb", dir)
		}
		return dir, nil
	}
	if dir := "/usr/lib/postgresql/15/bin"; isExec(filepath.Join(dir, "initdb")) {
		return dir, nil
	}
	// Debian installs each major version side by side; take the newest.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, dir := range dirs {
		if isExec(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries: no initdb in CULVERT_TEST_PGBIN, /usr/lib/postgresql/*/bin or PATH (Debian: apt-get install postgresql-15)")
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// runAs returns the credential to run PostgreSQL with: none when the test
// binary is not root, the postgres user's when it is (PostgreSQL refuses
// root).
func runAs() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		name := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return nil, name, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "", fmt.Errorf("running as root, and PostgreSQL refuses root, but there is no postgres user to run it as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, "", fmt.Errorf("postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, "postgres", nil
}

// sweep removes the directories of servers whose test binary has exited
// without stopping them (a panic, a timeout, a kill). Their postgres died
// with the binary; only the files are left.
func sweep(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
	for _, dir := range dirs {
		owner := pidFrom(filepath.Join(dir, ownerFile))
		if owner == 0 && young(dir) {
			// Another start, in this binary or another, has just made
			// it and not yet written its owner file.
			continue
		}
		if !alive(owner) && !alive(pidFrom(filepath.Join(dir, "data", "postmaster.pid"))) {
			os.RemoveAll(dir)
		}
	}
}

// young reports whether dir was made or changed in the last minute.
func young(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && time.Since(fi.ModTime()) < time.Minute
}

// pidFrom reads the pid on the first line of a file; 0 if there is none.
func pidFrom(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// alive reports whether a process exists. A pid of 0 is nobody.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails on Linux (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
