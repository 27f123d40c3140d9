package datapipeline

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
	"github.com/culvert/culvert/internal/queue"
	"github.com/culvert/culvert/internal/store"
)

// Config configures a [Service]. Zero fields take defaults.
type Config struct {
	// Limits bound definitions; zero fields take AWS's documented limits.
	Limits pipeline.Limits
	// MaxPipelines caps live pipelines per account; 0 means no cap. AWS's
	// default of 100 exists for AWS's capacity, not for users' benefit.
	MaxPipelines int
	// ListPageSize is the ListPipelines page size; AWS returns 25.
	ListPageSize int
	// Now returns the current time; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Logs reads attempts' logs for ListAttemptLogs and GetAttemptLog;
	// nil makes them internal errors.
	Logs LogReader
}

func (c Config) withDefaults() Config {
	if c.ListPageSize <= 0 {
		c.ListPageSize = 25
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	if c.MaxPipelines < 0 {
		return errors.New("datapipeline: Config.MaxPipelines must not be negative")
	}
	return nil
}

// Service implements the Data Pipeline operations.
type Service struct {
	cfg   Config
	store store.Store
	queue *queue.Queue

	descriptions sync.Map // pipeline id → *description, see described
}

// New returns a Service over st, handing tasks out through q.
func New(cfg Config, st store.Store, q *queue.Queue) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: st, queue: q}, nil
}

// caller returns the authenticated account. Every operation is scoped to it:
// nothing of another account is visible, not even its existence.
func caller(ctx context.Context) (awsjson.Principal, error) {
	p, ok := awsjson.PrincipalFrom(ctx)
	if !ok || p.AccountID == "" {
		return awsjson.Principal{}, errors.New("datapipeline: request context carries no authenticated principal")
	}
	return p, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Markers are opaque to clients but carry a kind, so a marker from one
// operation given to another is rejected instead of misread.
func encodeMarker(kind string, n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(n, 10)))
}

// decodeMarker returns 0 for the empty marker, which AWS documents as "from
// the start".
func decodeMarker(kind, m string) (int64, error) {
	if m == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), kind+":"); ok {
			if n, err := strconv.ParseInt(rest, 10, 64); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, invalidRequest("The marker is not valid. Pass the marker from a previous response unchanged.")
}

// dateTime renders a time the way Data Pipeline fields do: UTC, to the
// second, no zone.
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }
