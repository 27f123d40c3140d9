package main

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingProxy forwards requests to a culvert server and counts them by
// operation, so that a test can wait for a client to have made calls (a
// watch to have refreshed) instead of sleeping.
type countingProxy struct {
	URL string
	srv *httptest.Server

	mu     sync.Mutex
	counts map[string]int
	notify chan struct{} // signalled after every forwarded request
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	return startCountingProxy(t, target, httptest.NewServer)
}

// startCountingProxy is newCountingProxy with a choice of server, such as
// httptest.NewTLSServer.
func startCountingProxy(t *testing.T, target string, start func(http.Handler) *httptest.Server) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// The Host header is left as the client sent it, which is what it
	// signed.
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = tr
	// A watch that ends cancels its request in flight; that is no news.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	p := &countingProxy{counts: map[string]int{}, notify: make(chan struct{}, 1)}
	srv := start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(w, r)
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		p.mu.Lock()
		p.counts[op]++
		p.mu.Unlock()
		select {
		case p.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	p.URL = srv.URL + "/"
	p.srv = srv
	return p
}

// count returns how many op requests have been answered.
func (p *countingProxy) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// wait waits until at least n op requests have been answered.
func (p *countingProxy) wait(t *testing.T, op string, n int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for p.count(op) < n {
		select {
		case <-p.notify:
		case <-deadline:
			t.Fatalf("%d %s requests after 15s, want %d", p.count(op), op, n)
		}
	}
}

// screen records what a command writes to its standard output, one entry
// per Write, and signals every write.
type screen struct {
	mu     sync.Mutex
	writes []string
	notify chan struct{}
}

func newScreen() *screen { return &screen{notify: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.writes = append(s.writes, string(p))
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

// waitFor waits until the writes so far satisfy ok, and returns them.
func (s *screen) waitFor(t *testing.T, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		w := s.Writes()
		if ok(w) {
			return w
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("no %s after 15s; written so far:\n%s", what, strings.Join(w, "\n----\n"))
		}
	}
}

// terminal is a screen that says it is a character device, as os.Stdout
// does on a terminal.
type terminal struct{ *screen }

func (terminal) Stat() (os.FileInfo, error) { return charDevice{}, nil }

type charDevice struct{}

func (charDevice) Name() string       { return "tty" }
func (charDevice) Size() int64        { return 0 }
func (charDevice) Mode() fs.FileMode  { return fs.ModeDevice | fs.ModeCharDevice | 0o620 }
func (charDevice) ModTime() time.Time { return time.Time{} }
func (charDevice) IsDir() bool        { return false }
func (charDevice) Sys() any           { return nil }

// startWatch runs culvert with args in the background, writing to w, and
// returns a function that ends it as an interrupt does (its context ends)
// and returns Run's result. Cleanup ends it too.
func startWatch(t *testing.T, w io.Writer, args ...string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	m := &Main{Stdout: w, Stderr: &lockedBuffer{}, Getenv: cliEnv}
	go func() { done <- m.Run(ctx, args) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(stopTimeout):
			t.Errorf("culvert %s did not return within %v of its context ending", strings.Join(args, " "), stopTimeout)
			return nil
		}
	})
	t.Cleanup(func() { stop() })
	return stop
}

// withoutClock returns a watch's output without its clock, which is all
// that may differ between two printings of the same runs.
func withoutClock(s string) string { return clockPattern.ReplaceAllString(s, "${1}") }

// TestCLIRunsWatch follows a pipeline's runs with --watch at a 5ms
// interval: on a terminal every refresh redraws the screen; elsewhere a
// refresh is printed only when the runs changed, as text or as one line of
// JSON; and the watch ends cleanly when its context does.
func TestCLIRunsWatch(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	c := s.devClient()
	ctx := context.Background()
	id := strings.TrimSpace(mustCLI(t, "create", "watched", "--endpoint", s.URL))
	mustCLI(t, "put-definition", id, filepath.Join("testdata", "client", "hourly.json"), "--endpoint", s.URL)
	mustCLI(t, "activate", id, "--endpoint", s.URL)
	first, second := "@Work_2020-01-01T00:00:00", "@Work_2020-01-01T01:00:00"
	waitStatuses(t, c, id, map[string]string{first: "WAITING_FOR_RUNNER", second: "WAITING_ON_DEPENDENCIES"})
	proxy := newCountingProxy(t, s.URL)
	watch := []string{"runs", id, "--watch", "--interval", "5ms", "--endpoint", proxy.URL}

	t.Run("terminal", func(t *testing.T) {
		term := terminal{newScreen()}
		stop := startWatch(t, term, watch...)
		term.waitFor(t, "three redraws", func(w []string) bool { return len(w) >= 3 })
		if err := stop(); err != nil {
			t.Errorf("watch ended with %v, want nil", err)
		}
		writes := term.Writes()
		for i, w := range writes {
			if !strings.HasPrefix(w, clearScreen) {
				t.Fatalf("redraw %d does not start by clearing the screen: %q", i, w)
			}
			if withoutClock(w) != withoutClock(writes[0]) {
				t.Errorf("redraw %d differs from the first, though nothing changed:\n%s\n----\n%s", i, writes[0], w)
			}
		}
		golden(t, "watch-terminal.golden", strings.TrimPrefix(writes[0], clearScreen))
	})

	t.Run("json", func(t *testing.T) {
		scr := newScreen()
		stop := startWatch(t, scr, append(watch, "--json")...)
		scr.waitFor(t, "first line", func(w []string) bool { return len(w) >= 1 })
		proxy.wait(t, "QueryObjects", proxy.count("QueryObjects")+3)
		if err := stop(); err != nil {
			t.Errorf("watch ended with %v, want nil", err)
		}
		writes := scr.Writes()
		if len(writes) != 1 {
			t.Fatalf("watch --json wrote %d times though nothing changed:\n%s", len(writes), strings.Join(writes, ""))
		}
		if strings.Count(writes[0], "\n") != 1 || !strings.HasSuffix(writes[0], "\n") {
			t.Errorf("watch --json wrote %q, want one line", writes[0])
		}
		var runs []map[string]string
		mustUnmarshal(t, writes[0], &runs)
		var got []string
		for _, r := range runs {
			got = append(got, r["@id"]+" "+r["@status"])
		}
		if diff := cmp.Diff([]string{first + " WAITING_FOR_RUNNER", second + " WAITING_ON_DEPENDENCIES"}, got); diff != "" {
			t.Errorf("watch --json runs mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("log", func(t *testing.T) {
		scr := newScreen()
		stop := startWatch(t, scr, watch...)
		scr.waitFor(t, "first table", func(w []string) bool { return len(w) >= 1 })
		proxy.wait(t, "QueryObjects", proxy.count("QueryObjects")+3)
		if n := len(scr.Writes()); n != 1 {
			t.Errorf("watch printed %d tables before anything changed, want 1", n)
		}
		runner := &sdkRunner{t: t, c: c, workerGroup: "wg-cli"}
		runner.finish(ctx, runner.next(ctx), "FAILED", "disk full")
		runner.finish(ctx, runner.next(ctx), "FINISHED", "")
		scr.waitFor(t, "table of the finished runs", func(w []string) bool {
			return strings.Contains(w[len(w)-1], "2 runs: 1 FAILED, 1 FINISHED")
		})
		proxy.wait(t, "QueryObjects", proxy.count("QueryObjects")+3)
		if err := stop(); err != nil {
			t.Errorf("watch ended with %v, want nil", err)
		}
		writes := scr.Writes()
		for i := 1; i < len(writes); i++ {
			if !strings.HasPrefix(writes[i], "\n") {
				t.Errorf("table %d is not set off by a blank line: %q", i, writes[i])
			}
			if withoutClock(strings.TrimPrefix(writes[i], "\n")) == withoutClock(writes[i-1]) {
				t.Errorf("table %d repeats table %d, though nothing changed:\n%s", i, i-1, writes[i])
			}
		}
		golden(t, "watch-log-first.golden", writes[0])
		golden(t, "watch-log-last.golden", strings.TrimPrefix(writes[len(writes)-1], "\n"))
	})
}
