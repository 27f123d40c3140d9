package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// Test operations. echo reflects its input so tests can see what an op
// received; the others cover each kind of outcome.

type echoInput struct {
	PipelineIDs []string `json:"pipelineIds"`
	Name        string   `json:"name"`
	Limit       int      `json:"limit"`
	Nested      *struct {
		Key string `json:"key"`
	} `json:"nested"`
	Start *Time `json:"startTimestamp"`
}

type echoOutput struct {
	Input     echoInput `json:"input"`
	Principal string    `json:"principal"`
	RequestID string    `json:"requestId"`
}

func echo(ctx context.Context, in *echoInput) (*echoOutput, error) {
	p, _ := PrincipalFrom(ctx)
	return &echoOutput{Input: *in, Principal: p.AccessKeyID + "/" + p.AccountID, RequestID: RequestIDFrom(ctx)}, nil
}

type failInput struct {
	Kind string `json:"kind"`
}

// testAPIError is how another layer's error looks to awsjson.
type testAPIError struct {
	code, msg string
	status    int
}

func (e *testAPIError) Error() string        { return e.code + ": " + e.msg }
func (e *testAPIError) ErrorCode() string    { return e.code }
func (e *testAPIError) ErrorMessage() string { return e.msg }
func (e *testAPIError) HTTPStatus() int      { return e.status }

func fail(ctx context.Context, in *failInput) (*struct{}, error) {
	switch in.Kind {
	case "api":
		return nil, fmt.Errorf("op context: %w", &testAPIError{"PipelineNotFoundException", "Pipeline df-1 not found", 400})
	case "api5xx":
		return nil, &testAPIError{"InternalServiceError", "try again", 500}
	case "badstatus":
		return nil, &testAPIError{"WeirdException", "odd", 200}
	case "canceled":
		return nil, fmt.Errorf("store: %w", context.Canceled)
	case "panic":
		panic("op bug")
	case "empty":
		return &struct{}{}, nil
	}
	return nil, errors.New("store: connection refused to 10.0.0.7:5432")
}

type testBundle struct {
	logs  *logRecorder
	calls map[string]int
	mu    sync.Mutex
}

func (b *testBundle) called(op string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

func setup(t *testing.T) (*Handler, *testBundle) {
	t.Helper()
	b := &testBundle{logs: &logRecorder{}, calls: map[string]int{}}
	// count records that an operation's own code ran, which for a
	// Handle'd op means decoding succeeded.
	count := func(name string) {
		b.mu.Lock()
		b.calls[name]++
		b.mu.Unlock()
	}
	h := &Handler{
		Target:     "DataPipeline",
		AltTargets: []string{"DataPipeline_20121129"},
		Ops: map[string]Op{
			"Delete": Handle(func(context.Context, *struct{}) (*struct{}, error) {
				count("Delete")
				return nil, nil
			}),
			"Echo": Handle(func(ctx context.Context, in *echoInput) (*echoOutput, error) {
				count("Echo")
				return echo(ctx, in)
			}),
			"Fail": Handle(func(ctx context.Context, in *failInput) (*struct{}, error) {
				count("Fail")
				return fail(ctx, in)
			}),
			"HTML": Handle(func(context.Context, *struct{}) (*failInput, error) {
				count("HTML")
				return &failInput{Kind: "<a&b>"}, nil
			}),
			"Raw": func(context.Context, []byte) (any, error) {
				count("Raw")
				return RawJSON(`{"cached":"<&>"}`), nil
			},
			"RawNil": func(context.Context, []byte) (any, error) {
				count("RawNil")
				return &maybeRaw{Kind: "<encoded>"}, nil
			},
			"TypedNil": func(context.Context, []byte) (any, error) {
				count("TypedNil")
				return (*echoOutput)(nil), nil
			},
		},
		MaxBodyBytes: 1024,
		MaxDepth:     8,
		Logger:       slog.New(b.logs),
	}
	return h, b
}

// maybeRaw is an output written verbatim when it has a body ready, and
// encoded like any other output when RawJSON returns nil.
type maybeRaw struct {
	Kind string `json:"kind"`
	raw  []byte
}

func (o *maybeRaw) RawJSON() []byte { return o.raw }

type request struct {
	method  string
	path    string
	target  string // "-" means no header
	body    string
	chunked bool // hide the length, as a chunked upload does
}

type response struct {
	Status      int
	ContentType string
	Body        string
	ErrorType   string // X-Amzn-ErrorType header
}

func do(t *testing.T, h http.Handler, req request) (response, http.Header) {
	t.Helper()
	if req.method == "" {
		req.method = http.MethodPost
	}
	if req.path == "" {
		req.path = "/"
	}
	var body io.Reader = strings.NewReader(req.body)
	if req.chunked {
		body = iotest.OneByteReader(body) // not a known-length type
	}
	r := httptest.NewRequest(req.method, req.path, body)
	if req.chunked {
		r.ContentLength = -1
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if req.target != "-" {
		r.Header.Set("X-Amz-Target", req.target)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	got, _ := io.ReadAll(res.Body)
	if cl := res.Header.Get("Content-Length"); cl != fmt.Sprint(len(got)) {
		t.Errorf("Content-Length = %q, body has %d bytes", cl, len(got))
	}
	return response{
		Status:      res.StatusCode,
		ContentType: res.Header.Get("Content-Type"),
		Body:        string(got),
		ErrorType:   res.Header.Get("X-Amzn-ErrorType"),
	}, res.Header
}

func errResponse(status int, code, msg string) response {
	b, _ := json.Marshal(errorBody{Type: code, Message: msg})
	return response{Status: status, ContentType: contentType, Body: string(b), ErrorType: code}
}

func okResponse(body string) response {
	return response{Status: 200, ContentType: contentType, Body: body}
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// logRecorder is a slog.Handler that keeps records for inspection.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, rec)
	return nil
}

func (l *logRecorder) all() []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logRecord(nil), l.recs...)
}
