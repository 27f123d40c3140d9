package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/culvert/culvert/internal/pgtest"
	"github.com/culvert/culvert/internal/sdkhttp"
)

// The development key, accepted on loopback when no --credentials file is
// given. Spelled out rather than imported from sigv4 so that a change to the
// built-in key shows up here as a failing test.
const (
	devAccessKeyID = "AKIDEXAMPLE"
	devSecret      = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	devAccount     = "123456789012"
)

// startTimeout bounds how long a server may take to become ready, and
// stopTimeout how long it may take to shut down once asked.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	// The PostgreSQL the runner's end-to-end tests started, if any.
	if err := pgtest.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// lockedBuffer is a bytes.Buffer safe for a server goroutine to write while
// a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testServer is a culvert server running in-process through Main.
type testServer struct {
	URL  string // base URL as passed to Ready, e.g. http://127.0.0.1:PORT/
	Data string // the --data directory
	Log  *lockedBuffer

	transport *http.Transport
	stop      func() error // idempotent; cancels Run's context and returns its result
}

// Stop shuts the server down as SIGTERM would and returns Run's result.
func (s *testServer) Stop() error { return s.stop() }

// noEnv is the environment of in-process servers unless a test gives one:
// nothing, so CULVERT_* variables of whoever runs the tests cannot leak in.
func noEnv(string) string { return "" }

// mustRunServer runs `culvert serve` in-process on 127.0.0.1:0 with a fresh
// t.TempDir() data directory and --poll-wait 1s; args are appended, so a
// later flag overrides a default. It returns once the server is ready. At
// cleanup it cancels the server's context and fails the test unless Run then
// returns nil within stopTimeout: graceful shutdown must be clean.
func mustRunServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	s, err := startServer(t, noEnv, args...)
	if err != nil {
		t.Fatalf("culvert serve %s: %v", strings.Join(args, " "), err)
	}
	return s
}

// startServer is mustRunServer with a chosen environment, returning Run's
// error instead of failing if the server stops before it is ready.
func startServer(t *testing.T, getenv func(string) string, args ...string) (*testServer, error) {
	t.Helper()
	data := t.TempDir()
	full := append([]string{"serve",
		"--listen", "127.0.0.1:0",
		"--data", data,
		"--poll-wait", "1s",
		"--log-level", "debug",
	}, args...)
	for i := 0; i+1 < len(full); i++ {
		if full[i] == "--data" {
			data = full[i+1] // the last --data wins, as the flag package does
		}
	}

	log := &lockedBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	m := &Main{Stdout: log, Stderr: log, Getenv: getenv, Ready: func(u string) { ready <- u }}
	go func() { done <- m.Run(ctx, full) }()

	select {
	case u := <-ready:
		s := &testServer{URL: u, Data: data, Log: log, transport: http.DefaultTransport.(*http.Transport).Clone()}
		s.stop = sync.OnceValue(func() error {
			s.transport.CloseIdleConnections()
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(stopTimeout):
				return fmt.Errorf("Run() did not return within %v of its context ending", stopTimeout)
			}
		})
		t.Cleanup(func() {
			if err := s.stop(); err != nil {
				t.Errorf("Run() after shutdown = %v, want nil", err)
			}
			if t.Failed() {
				t.Logf("server log:\n%s", log)
			}
		})
		return s, nil
	case err := <-done:
		cancel()
		if err == nil {
			err = errors.New("Run returned nil without calling Ready")
		}
		t.Logf("server log:\n%s", log)
		return nil, err
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("server not ready within %v; log:\n%s", startTimeout, log)
		return nil, nil
	}
}

// newClient returns a Data Pipeline client for baseURL with static
// credentials. It makes one attempt per call, so a failure surfaces at once
// instead of after the SDK's back-off.
//
// Request bodies are buffered (sdkhttp.Transport): the SDK closes
// its request body stream once the response arrives, and on loopback a
// response can arrive while net/http's writeLoop still reads that stream
// to its end, which then fails and closes the connection under the
// response being read (use of closed network connection;
// aws/aws-sdk-go-v2#2737).
func newClient(baseURL, akid, secret string, hc *http.Client) *datapipeline.Client {
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc = &http.Client{Transport: &sdkhttp.Transport{Base: base}, Timeout: hc.Timeout}
	return datapipeline.New(datapipeline.Options{
		BaseEndpoint:     aws.String(baseURL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	})
}

// client returns a client of s signing with the given key.
func (s *testServer) client(akid, secret string) *datapipeline.Client {
	return newClient(s.URL, akid, secret, &http.Client{Transport: s.transport})
}

// devClient returns a client of s signing with the development key.
func (s *testServer) devClient() *datapipeline.Client {
	return s.client(devAccessKeyID, devSecret)
}

// writeFile writes content to name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// built is the culvert binary shared by every process-level test.
var built struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

// mustBuildBinary builds the real culvert binary, once per test run, and
// returns its path. Process-level tests need it for what cannot be done
// in-process: signals and kill -9. They skip in -short mode.
func mustBuildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIP: process-level test needs a built binary; not run with -short")
	}
	built.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("go tool not in PATH: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "culvert-e2e-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		path := filepath.Join(dir, "culvert")
		cmd := exec.Command(goTool, "build", "-o", path, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.path = path
	})
	if built.err != nil {
		t.Fatalf("building culvert: %v", built.err)
	}
	return built.path
}

// proc is a culvert binary running as a child process.
type proc struct {
	URL    string
	Log    *lockedBuffer
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process has exited and been reaped
	waitEr error         // cmd.Wait's result, valid after done
}

var listeningURL = regexp.MustCompile(`msg="culvert listening" url=(\S+)`)

// hermeticEnv is the test process's environment without any CULVERT_ or
// AWS_ variable, plus extra.
func hermeticEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CULVERT_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startProc starts the binary with args (after "serve --listen
// 127.0.0.1:0") and waits until it logs its URL. At cleanup a process still
// running is killed.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p, err := tryStartProc(t, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tryStartProc(t *testing.T, bin string, args ...string) (*proc, error) {
	t.Helper()
	full := append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Env = hermeticEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{Log: &lockedBuffer{}, cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.Log, line)
			if m := listeningURL.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(p.Log, stderr)
		p.waitEr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("culvert %s log:\n%s", strings.Join(full, " "), p.Log)
		}
	})
	select {
	case p.URL = <-urls:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("culvert %s exited before listening: %v; log:\n%s", strings.Join(full, " "), p.waitEr, p.Log)
	case <-time.After(startTimeout):
		return nil, fmt.Errorf("culvert %s not listening within %v; log:\n%s", strings.Join(full, " "), startTimeout, p.Log)
	}
}

// wait waits up to d for the process to exit and returns its exit error.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.waitEr
	case <-time.After(d):
		t.Fatalf("culvert still running %v later", d)
		return nil
	}
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantErr    bool
		wantStdout string
		wantStderr string
	}{
		{name: "version", args: []string{"version"}, wantStdout: "culvert " + version + "\n"},
		{name: "help", args: []string{"help"}, wantStdout: usage},
		{name: "no command", args: nil, wantErr: true, wantStderr: usage},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: true, wantStderr: usage},
		{name: "serve extra argument", args: []string{"serve", "--listen", "127.0.0.1:0", "oops"}, wantErr: true},
		{name: "serve bad log level", args: []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "loud"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: noEnv}
			err := m.Run(context.Background(), tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run(%q) error = %v, want error: %v", tc.args, err, tc.wantErr)
			}
			if tc.wantStdout != "" && stdout.String() != tc.wantStdout {
				t.Errorf("Run(%q) stdout = %q, want %q", tc.args, stdout.String(), tc.wantStdout)
			}
			if tc.wantStderr != "" && stderr.String() != tc.wantStderr {
				t.Errorf("Run(%q) stderr = %q, want %q", tc.args, stderr.String(), tc.wantStderr)
			}
		})
	}
}
