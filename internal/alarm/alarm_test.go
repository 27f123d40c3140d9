package alarm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/alarm"
	"github.com/culvert/culvert/internal/alarm/alarmtest"
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/sqlite"
)

const (
	account  = "123456789012"
	topicArn = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type testBundle struct {
	st  store.Store
	pid string
	now time.Time
}

// setup opens a real SQLite store with one pipeline.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "culvert.db"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, _, err := st.PipelineCreate(ctx, &store.PipelineCreateParams{Account: account, ID: "df-ALARMTEST01", Name: "p", UniqueID: "u", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{st: st, pid: p.ID, now: t0}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fire queues alarms for the named sink as the scheduler does.
func (b *testBundle) fire(t *testing.T, sink string, subjects ...string) []*store.Alarm {
	t.Helper()
	var as []*store.Alarm
	for _, s := range subjects {
		as = append(as, &store.Alarm{Sink: sink, ActionID: "FailAlarm", InstanceID: "@Work_2026-01-02T03:00:00",
			Event: "onFail", TopicArn: topicArn, Subject: s, Message: "Work failed at 2026-01-02T03:00:00.\nSee the logs."})
	}
	if err := b.st.RunApply(context.Background(), &store.RunChanges{Account: account, PipelineID: b.pid, Alarms: as, Now: b.now}); err != nil {
		t.Fatal(err)
	}
	return as
}

func (b *testBundle) dispatcher(t *testing.T, sink alarm.Sink, maxTries int) *alarm.Dispatcher {
	t.Helper()
	d, err := alarm.NewDispatcher(alarm.Config{Store: b.st, Sink: sink, Logger: quiet(), MaxTries: maxTries,
		Now: func() time.Time { return b.now }, Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *testBundle) queued(t *testing.T, sink string) []*store.Alarm {
	t.Helper()
	due, _, err := b.st.AlarmsDue(context.Background(), sink, b.now.Add(24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

// webhook is a receiver answering with the statuses in answers, then 200.
type webhook struct {
	mu       sync.Mutex
	answers  []int
	received []alarm.WebhookPayload
	seqs     []string
	got      chan struct{}
}

func newWebhook(t *testing.T, answers ...int) (*webhook, *httptest.Server) {
	w := &webhook{answers: answers, got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p alarm.WebhookPayload
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.received = append(w.received, p)
		w.seqs = append(w.seqs, r.Header.Get("X-Culvert-Alarm-Seq"))
		code := http.StatusOK
		if len(w.answers) > 0 {
			code, w.answers = w.answers[0], w.answers[1:]
		}
		rw.WriteHeader(code)
		w.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return w, srv
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w, srv := newWebhook(t, http.StatusServiceUnavailable, http.StatusTooManyRequests)
	fired := b.fire(t, "webhook", "Work failed")
	d := b.dispatcher(t, &alarm.Webhook{URL: srv.URL}, 10)
	ctx := context.Background()

	next, more := d.Pass(ctx)
	if more || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Pass after a 503 = (%v, %v), want (%v, false)", next, more, t0.Add(time.Minute))
	}
	if next, _ := d.Pass(ctx); !next.Equal(t0.Add(time.Minute)) || len(w.received) != 1 {
		t.Fatalf("Pass before the retry is due delivered %d times, next %v; want 1 and %v", len(w.received), next, t0.Add(time.Minute))
	}
	b.now = next
	if next, _ := d.Pass(ctx); !next.Equal(b.now.Add(2 * time.Minute)) {
		t.Fatalf("Pass after a 429: next = %v, want the second backoff %v", next, b.now.Add(2*time.Minute))
	}
	q := b.queued(t, "webhook")
	if len(q) != 1 || q[0].Tries != 2 || !strings.Contains(q[0].LastError, "429") {
		t.Fatalf("queued after two failures = %+v, want one alarm with Tries 2 and the 429 as LastError", q)
	}
	b.now = b.now.Add(2 * time.Minute)
	if next, more := d.Pass(ctx); !next.IsZero() || more {
		t.Fatalf("Pass that delivers = (%v, %v), want (zero, false)", next, more)
	}
	if q := b.queued(t, "webhook"); len(q) != 0 {
		t.Fatalf("queued after delivery = %d alarms, want none", len(q))
	}
	want := alarm.WebhookPayload{Seq: fired[0].Seq, PipelineID: b.pid, ActionID: "FailAlarm", InstanceID: "@Work_2026-01-02T03:00:00",
		Event: "onFail", TopicArn: topicArn, Subject: "Work failed", Message: "Work failed at 2026-01-02T03:00:00.\nSee the logs.",
		FiredAt: "2026-01-02T03:04:05Z"}
	for i, got := range w.received {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("delivery %d mismatch (-want +got):\n%s", i, diff)
		}
		if w.seqs[i] != fmt.Sprint(fired[0].Seq) {
			t.Errorf("delivery %d X-Culvert-Alarm-Seq = %q, want %d", i, w.seqs[i], fired[0].Seq)
		}
	}
	if len(w.received) != 3 {
		t.Errorf("webhook received %d deliveries, want 3 (two failures, then success)", len(w.received))
	}
}

func TestWebhookRefusedOrExhausted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		answers  []int
		maxTries int
		tries    int // deliveries before the alarm leaves the queue
	}{
		{"400 is final", []int{http.StatusBadRequest}, 10, 1},
		{"404 is final", []int{http.StatusNotFound}, 10, 1},
		{"given up after MaxTries", []int{500, 502, 503, 504}, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w, srv := newWebhook(t, tc.answers...)
			b.fire(t, "webhook", "x")
			d := b.dispatcher(t, &alarm.Webhook{URL: srv.URL}, tc.maxTries)
			for range 10 {
				next, _ := d.Pass(context.Background())
				if next.IsZero() {
					break
				}
				b.now = next
			}
			if len(w.received) != tc.tries {
				t.Errorf("webhook received %d deliveries, want %d", len(w.received), tc.tries)
			}
			if q := b.queued(t, "webhook"); len(q) != 0 {
				t.Errorf("queue holds %d alarms, want none", len(q))
			}
		})
	}
}

// TestRunWakesOnNewAlarms checks that a running Dispatcher delivers an
// alarm as soon as a run step queues it, and only for its own sink.
func TestRunWakesOnNewAlarms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w, srv := newWebhook(t)
	d := b.dispatcher(t, &alarm.Webhook{URL: srv.URL}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	b.fire(t, "sns", "not for the webhook")
	b.fire(t, "webhook", "first")
	b.fire(t, "webhook", "second", "third")
	for i := range 3 {
		select {
		case <-w.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("webhook got %d of 3 alarms within 10s", i)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run() = %v, want context.Canceled", err)
	}
	var subjects []string
	for _, p := range w.received {
		subjects = append(subjects, p.Subject)
	}
	if diff := cmp.Diff([]string{"first", "second", "third"}, subjects); diff != "" {
		t.Errorf("delivered subjects mismatch (-want +got):\n%s", diff)
	}
	if q := b.queued(t, "sns"); len(q) != 1 {
		t.Errorf("sns queue holds %d alarms, want the 1 no sns dispatcher took", len(q))
	}
}

func snsSink(srv *httptest.Server) *alarm.SNS {
	return &alarm.SNS{
		Config:       aws.Config{Credentials: credentials.NewStaticCredentialsProvider("AKIDSNS", "secret", "")},
		BaseEndpoint: srv.URL,
	}
}

func TestSNSPublishes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fake := alarmtest.NewSNS("InternalError", "Throttling")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	b.fire(t, "sns", "COPY FAILED: 2026-01-02T03:00:00", "")
	d := b.dispatcher(t, snsSink(srv), 10)
	for range 10 {
		next, _ := d.Pass(context.Background())
		if next.IsZero() {
			break
		}
		b.now = next
	}
	if q := b.queued(t, "sns"); len(q) != 0 {
		t.Fatalf("sns queue holds %d alarms, want none", len(q))
	}
	published, auth := fake.Published()
	// Each alarm fails once (a server fault, then throttling), then both
	// are delivered.
	if len(published) != 4 {
		t.Fatalf("fake SNS saw %d Publish calls, want 4", len(published))
	}
	first, second := published[2], published[3]
	if published[0].Get("Subject") != "COPY FAILED: 2026-01-02T03:00:00" {
		t.Errorf("first try subject = %q, want the first alarm's", published[0].Get("Subject"))
	}
	if first.Get("Subject") == second.Get("Subject") {
		t.Errorf("both publishes have subject %q", first.Get("Subject"))
	}
	for i, v := range published {
		if v.Get("Action") != "Publish" || v.Get("TopicArn") != topicArn || v.Get("Message") != "Work failed at 2026-01-02T03:00:00.\nSee the logs." {
			t.Errorf("publish %d = %v, want Action=Publish, the topic and the message", i, v)
		}
		if !strings.Contains(auth[i], "Credential=AKIDSNS/") || !strings.Contains(auth[i], "/eu-west-1/sns/aws4_request") {
			t.Errorf("publish %d Authorization = %q, want SigV4 for sns in the topic's region", i, auth[i])
		}
	}
	for _, v := range published {
		if _, has := v["Subject"]; has && v.Get("Subject") == "" {
			t.Errorf("an empty subject was sent as Subject=; SNS rejects that")
		}
	}
}

func TestSNSRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fake := alarmtest.NewSNS("NotFound")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	b.fire(t, "sns", "gone topic")
	bad := &store.Alarm{Sink: "sns", ActionID: "A", InstanceID: "@I", Event: "onFail", TopicArn: "not-an-arn", Message: "m"}
	if err := b.st.RunApply(context.Background(), &store.RunChanges{Account: account, PipelineID: b.pid, Alarms: []*store.Alarm{bad}, Now: b.now}); err != nil {
		t.Fatal(err)
	}
	d := b.dispatcher(t, snsSink(srv), 10)
	if next, _ := d.Pass(context.Background()); !next.IsZero() {
		t.Errorf("Pass() next = %v, want zero: a missing topic and a bad ARN are not retried", next)
	}
	if published, _ := fake.Published(); len(published) != 1 {
		t.Errorf("fake SNS saw %d calls, want 1 (the bad ARN never leaves culvert)", len(published))
	}
	if q := b.queued(t, "sns"); len(q) != 0 {
		t.Errorf("sns queue holds %d alarms, want none", len(q))
	}
}
