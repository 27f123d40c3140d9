package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/datapipeline"
	"github.com/culvert/culvert/internal/objstore"
)

// logsPattern is where culvert serve serves attempts' logs, beside the
// API on its listener: a file by name, or with an empty name the list
// (docs/assumptions/0022-attempt-logs.md).
const logsPattern = "GET /logs/{pipelineId}/{attemptId}/{name...}"

// attemptLogs is culvert serve's [datapipeline.LogReader]: attempts' logs
// through objstore. Local locations are read with a store that has no
// AWS configuration at all; S3 ones with the SDK's default configuration,
// loaded at the first S3 location, so that an AWS setup only S3 logs need
// cannot keep the server from starting.
//
// A location is what a task runner reported, and any runner with an
// account's key can report any location: so local ones are served only
// under roots (the embedded runner's log directory and --log-roots), never
// elsewhere on the server's disk, and S3 ones only when s3 is on
// (--s3-logs), since the server reads them with its own credentials.
type attemptLogs struct {
	local *objstore.Store
	roots []string // absolute, cleaned
	s3On  bool
	s3    func() (*objstore.Store, error)
}

func newAttemptLogs(roots []string, s3On bool) (*attemptLogs, error) {
	local, err := objstore.New(aws.Config{}, objstore.Config{})
	if err != nil {
		return nil, err
	}
	l := &attemptLogs{local: local, s3On: s3On, s3: sync.OnceValues(func() (*objstore.Store, error) {
		return objstore.Load(context.Background(), objstore.Config{})
	})}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("log root %s: %w", r, err)
		}
		l.roots = append(l.roots, abs)
	}
	return l, nil
}

func (l *attemptLogs) store(loc string) (*objstore.Store, error) {
	if len(loc) >= len("s3://") && strings.EqualFold(loc[:len("s3://")], "s3://") {
		if !l.s3On {
			return nil, fmt.Errorf("logs on S3 are not served here (culvert serve --s3-logs=false): %w", fs.ErrPermission)
		}
		return l.s3()
	}
	if err := l.allowed(loc); err != nil {
		return nil, err
	}
	return l.local, nil
}

// allowed checks that the local location loc, links resolved, lies under
// one of the roots.
func (l *attemptLogs) allowed(loc string) error {
	p := loc
	if rest, ok := strings.CutPrefix(p, "file://"); ok {
		p = rest
		if rest, ok := strings.CutPrefix(p, "localhost/"); ok {
			p = "/" + rest
		}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err // fs.ErrNotExist: not on this server
	}
	for _, root := range l.roots {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue // not made yet: nothing is under it
		}
		if rel, err := filepath.Rel(r, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("%s is outside the directories this server serves logs from (its runner log directory and --log-roots): %w", loc, fs.ErrPermission)
}

// ListLogs implements [datapipeline.LogReader].
func (l *attemptLogs) ListLogs(ctx context.Context, loc string) ([]datapipeline.LogFile, error) {
	st, err := l.store(loc)
	if err != nil {
		return nil, err
	}
	entries, err := st.ListIn(ctx, loc)
	if err != nil {
		return nil, err
	}
	files := make([]datapipeline.LogFile, len(entries))
	for i, e := range entries {
		files[i] = datapipeline.LogFile{Name: e.Name, Size: e.Size, LastModified: awsjson.Time{Time: e.ModTime.UTC()}}
	}
	return files, nil
}

// OpenLog implements [datapipeline.LogReader].
func (l *attemptLogs) OpenLog(ctx context.Context, loc, name string) (io.ReadCloser, int64, error) {
	st, err := l.store(loc)
	if err != nil {
		return nil, 0, err
	}
	return st.OpenIn(ctx, loc, name)
}

// serveAttemptLogs answers logsPattern through svc, for awsjson's
// Handler.Serve, which has verified the caller.
func serveAttemptLogs(svc *datapipeline.Service) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		pipelineID, attemptID, name := r.PathValue("pipelineId"), r.PathValue("attemptId"), r.PathValue("name")
		if name == "" {
			out, err := svc.ListAttemptLogs(ctx, &datapipeline.ListAttemptLogsInput{PipelineID: pipelineID, AttemptID: attemptID})
			if err != nil {
				return err
			}
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // as the API does not
			if err := enc.Encode(out); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
			_, err = io.WriteString(w, b.String())
			return err
		}
		out, err := svc.GetAttemptLog(ctx, &datapipeline.GetAttemptLogInput{PipelineID: pipelineID, AttemptID: attemptID, Name: name})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		h := w.Header()
		// A log is whatever a command printed: it is shown as text and
		// never sniffed into something a browser would run.
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		if out.Size < 0 {
			_, err = io.Copy(w, out.Body)
			return err
		}
		// The log of a running attempt grows while it is read: send
		// what it held when opened, as its length says.
		h.Set("Content-Length", strconv.FormatInt(out.Size, 10))
		_, err = io.CopyN(w, out.Body, out.Size)
		return err
	}
}

// listFlag collects a repeatable flag of comma-separated values, so that
// its CULVERT_ variable can hold several.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*f = append(*f, s)
		}
	}
	return nil
}
