package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/store"
	"github.com/culvert/culvert/internal/store/sqlite"
)

func TestLeaseArithmetic(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := setup(t, time.Millisecond)
	if got := b.q.AckDeadline(now); !got.Equal(now.Add(2 * time.Minute)) {
		t.Errorf("default AckDeadline = %v", got)
	}
	if got := b.q.ProgressDeadline(now); !got.Equal(now.Add(15 * time.Minute)) {
		t.Errorf("default ProgressDeadline = %v", got)
	}
	q, err := queue.New(queue.Config{AckTimeout: 10 * time.Second, ProgressTimeout: time.Minute}, b.db)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.AckDeadline(now); !got.Equal(now.Add(10 * time.Second)) {
		t.Errorf("AckDeadline with ackTimeout 10s = %v", got)
	}
	if got := q.ProgressDeadline(now); !got.Equal(now.Add(time.Minute)) {
		t.Errorf("ProgressDeadline with progressTimeout 1m = %v", got)
	}
	if _, err := queue.New(queue.Config{AckTimeout: -time.Second}, b.db); err == nil {
		t.Error("a negative ack timeout was accepted")
	}
}

type bundle struct {
	db *sqlite.DB
	q  *queue.Queue
}

func setup(t *testing.T, wait time.Duration) *bundle {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "culvert.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	q, err := queue.New(queue.Config{Wait: wait}, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.PipelineCreate(context.Background(), &store.PipelineCreateParams{
		Account: "111111111111", ID: "df-P", Name: "p", UniqueID: "u", Now: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	return &bundle{db: db, q: q}
}

func TestPollEmptyReturnsNil(t *testing.T) {
	t.Parallel()
	b := setup(t, 20*time.Millisecond)
	task, err := b.q.Poll(context.Background(), "111111111111", "wg", "host", "host")
	if task != nil || err != nil {
		t.Fatalf("Poll() = %v, %v; want nil, nil when the hold ends", task, err)
	}
}

func TestPollWakesOnEnqueue(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Minute)
	got := make(chan *store.Task, 1)
	go func() {
		task, err := b.q.Poll(context.Background(), "111111111111", "wg", "host", "host")
		if err != nil {
			t.Error(err)
		}
		got <- task
	}()
	err := b.db.TaskEnqueue(context.Background(), &store.Task{
		ID: "t1", Account: "111111111111", PipelineID: "df-P", AttemptID: "@A_Attempt=1", WorkerGroup: "wg",
		Objects: []byte(`{}`), CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case task := <-got:
		if task == nil || task.ID != "t1" || task.LeaseOwner != "host" || task.Status != store.TaskClaimed {
			t.Fatalf("Poll() = %+v, want t1 claimed by host", task)
		}
	case <-time.After(30 * time.Second): // far below the one-minute hold
		t.Fatal("Poll did not wake when a task was enqueued")
	}
	// Another worker group and another account never see it, and it is leased.
	for _, who := range [][2]string{{"111111111111", "other"}, {"222222222222", "wg"}, {"111111111111", "wg"}} {
		if _, err := b.db.TaskClaim(context.Background(), &store.TaskClaimParams{
			Account: who[0], WorkerGroup: who[1], Owner: "x", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute),
		}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TaskClaim(%v) err = %v, want ErrNotFound", who, err)
		}
	}
}

func TestPollHonoursContext(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.q.Poll(ctx, "111111111111", "wg", "host", "host"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll(canceled ctx) err = %v, want context.Canceled", err)
	}
}
