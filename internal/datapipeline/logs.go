package datapipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/culvert/culvert/internal/awsjson"
	"github.com/culvert/culvert/internal/pipeline"
)

// Attempts' logs. A task runner names where an attempt's logs are in the
// @logLocation field of a progress report; the attempt shows it, and
// culvert serves the files there (GET /logs/…, a culvert extension; the
// choices are in docs/assumptions/0022-attempt-logs.md).

// maxLogLocation is the longest @logLocation a runner may report, in
// characters: room for an S3 key (at most 1024 bytes) under a long
// bucket name and prefix, and the model's own longest id (taskId).
const maxLogLocation = 2048

// reportedLogLocation returns the @logLocation a progress report names,
// "" if it names none. Other fields are accepted and ignored, as before
// culvert knew this one.
func reportedLogLocation(fields []Field) (string, error) {
	loc, found := "", false
	for _, f := range fields {
		if f.Key != pipeline.KeyLogLocation {
			continue
		}
		if found {
			return "", invalidRequest("A progress report names at most one @logLocation; this one names several.")
		}
		found = true
		if f.StringValue == nil {
			return "", invalidRequest("@logLocation must be a stringValue: the s3://, file:// or absolute path of the attempt's log directory.")
		}
		loc = *f.StringValue
		if err := checkLogLocation(loc); err != nil {
			return "", err
		}
	}
	return loc, nil
}

// checkLogLocation accepts what culvert can read logs from: an s3:// URI
// with a bucket, a file:// URI of an absolute path (file:///p, or
// file://localhost/p), or an absolute path, without ".." elements, at
// most maxLogLocation characters.
func checkLogLocation(loc string) error {
	if n := utf8.RuneCountInString(loc); n > maxLogLocation {
		return invalidRequest("@logLocation is %d characters long; at most %d are allowed.", n, maxLogLocation)
	}
	ok := false
	switch {
	case hasScheme(loc, "s3"):
		bucket, _, _ := strings.Cut(loc[len("s3://"):], "/")
		ok = bucket != ""
	case hasScheme(loc, "file"):
		p := loc[len("file://"):]
		if rest, found := strings.CutPrefix(p, "localhost/"); found {
			p = "/" + rest
		}
		ok = absoluteClimbFree(p)
	default:
		ok = absoluteClimbFree(loc)
	}
	if !ok {
		return invalidRequest("@logLocation %s is not a log location: use s3://bucket/prefix, file:///absolute/path or an absolute path, without .. elements.",
			quoteClipped(loc))
	}
	return nil
}

func hasScheme(uri, scheme string) bool {
	n := len(scheme)
	return len(uri) >= n+3 && strings.EqualFold(uri[:n], scheme) && uri[n:n+3] == "://"
}

// absoluteClimbFree reports whether p is an absolute path none of whose
// elements is "..".
func absoluteClimbFree(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return false
		}
	}
	return true
}

// quoteClipped quotes s for a message, cut to a readable length.
func quoteClipped(s string) string {
	const max = 200
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:max])) + "…"
}

// LogReader reads the files task runners leave at attempts' log
// locations. A location is an s3:// URI, a file:// URI or an absolute
// path, as checkLogLocation accepts; cmd/culvert supplies a reader over
// internal/objstore.
type LogReader interface {
	// ListLogs returns the files under the log location loc, named
	// relative to it ("/"-separated), sorted by name. A local location
	// that is not on this machine is an error satisfying
	// errors.Is(err, fs.ErrNotExist); an S3 prefix with nothing under it
	// is an empty list. A refusal (S3's 403, a local permission) satisfies
	// errors.Is(err, fs.ErrPermission).
	ListLogs(ctx context.Context, loc string) ([]LogFile, error)
	// OpenLog opens the file name under loc and returns its size (-1 if
	// unknown). name is relative and "/"-separated, with no empty, "." or
	// ".." element; the reader never reaches outside loc, through links
	// neither, and refuses a name that would with an error satisfying
	// errors.Is(err, fs.ErrPermission). A missing file satisfies
	// errors.Is(err, fs.ErrNotExist).
	OpenLog(ctx context.Context, loc, name string) (io.ReadCloser, int64, error)
}

// LogFile is one file of an attempt's logs.
type LogFile struct {
	Name         string       `json:"name"` // relative to the log location, "/"-separated
	Size         int64        `json:"size"` // in bytes
	LastModified awsjson.Time `json:"lastModified"`
}

// ListAttemptLogsInput names an attempt whose logs to list.
type ListAttemptLogsInput struct {
	PipelineID string
	// AttemptID is an attempt's id, or an instance's for its latest
	// attempt.
	AttemptID string
}

// ListAttemptLogsOutput is where an attempt's logs are and what is there;
// AttemptID is the attempt's, also when an instance's id named it.
type ListAttemptLogsOutput struct {
	PipelineID  string    `json:"pipelineId"`
	AttemptID   string    `json:"attemptId"`
	LogLocation string    `json:"logLocation"`
	Files       []LogFile `json:"files"`
}

// GetAttemptLogInput names one file of an attempt's logs.
type GetAttemptLogInput struct {
	PipelineID string
	// AttemptID is an attempt's id, or an instance's for its latest
	// attempt.
	AttemptID string
	// Name is a file under the attempt's log location, relative to it.
	// "stdout" and "stderr" also find stdout.log and stderr.log, the
	// names culvert's runner writes.
	Name string
}

// GetAttemptLogOutput is one file of an attempt's logs, open for reading;
// the caller closes Body.
type GetAttemptLogOutput struct {
	LogLocation string
	Name        string // the name the file was found under
	Size        int64  // -1 if unknown
	Body        io.ReadCloser
}

// maxLogName bounds a log file's name, like an S3 key.
const maxLogName = 1024

func (in *ListAttemptLogsInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.id("attemptId", in.AttemptID)
	return c.err()
}

func (in *GetAttemptLogInput) validate() error {
	var c checker
	c.id("pipelineId", in.PipelineID)
	c.id("attemptId", in.AttemptID)
	if err := c.err(); err != nil {
		return err
	}
	return checkLogName(in.Name)
}

// checkLogName accepts the relative name of a file under a log location
// and nothing that could reach beside it. The reader checks again; this
// is the answer a caller sees.
func checkLogName(name string) error {
	bad := func(why string) error {
		return invalidRequest("Log file name %s %s: name a file inside the attempt's log location, as its listing shows it.", quoteClipped(name), why)
	}
	switch {
	case name == "":
		return bad("is empty")
	case utf8.RuneCountInString(name) > maxLogName:
		return bad(fmt.Sprintf("is longer than %d characters", maxLogName))
	case !utf8.ValidString(name):
		return bad("is not UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("is absolute")
	case strings.Contains(name, "\\"):
		return bad("contains a backslash")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("contains a control character")
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return bad("has an empty, . or .. element")
		}
	}
	return nil
}

// attemptLog is an attempt found for its logs.
type attemptLog struct {
	id, hostname, location string
}

// attemptLogLocation finds the caller's attempt and where its logs are,
// as DescribeObjects shows it.
func (s *Service) attemptLogLocation(ctx context.Context, pipelineID, attemptID string) (*attemptLog, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	run, err := s.loadRun(ctx, who.AccountID, pipelineID)
	if err != nil {
		return nil, err
	}
	a, _ := run.attempt(attemptID)
	if in := run.instance(attemptID); a == nil && in != nil {
		// An instance's id, as list-runs shows them, means its latest
		// attempt.
		if a, _ = run.attempt(in.HeadAttempt); a == nil {
			return nil, resourceNotFound("Instance %s (%s) has no attempt yet, so no logs.", in.ID, in.Status)
		}
	}
	if a == nil {
		return nil, resourceNotFound("Pipeline %s has no attempt or instance %s. Attempt ids end in _Attempt=N; QueryObjects with sphere ATTEMPT lists them.",
			pipelineID, quoteClipped(attemptID))
	}
	a = run.progressed(a)
	if a.LogLocation == "" {
		return nil, resourceNotFound("Attempt %s (%s) has no logs yet: its task runner has not reported where it writes them (@logLocation).",
			a.ID, a.Status)
	}
	if s.cfg.Logs == nil {
		return nil, errors.New("datapipeline: Config.Logs is nil; this Service cannot read logs")
	}
	return &attemptLog{id: a.ID, hostname: a.Hostname, location: a.LogLocation}, nil
}

// ListAttemptLogs returns where an attempt's logs are and the files there.
func (s *Service) ListAttemptLogs(ctx context.Context, in *ListAttemptLogsInput) (*ListAttemptLogsOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	al, err := s.attemptLogLocation(ctx, in.PipelineID, in.AttemptID)
	if err != nil {
		return nil, err
	}
	files, err := s.cfg.Logs.ListLogs(ctx, al.location)
	if err != nil {
		return nil, al.readError(ctx, err)
	}
	if files == nil {
		files = []LogFile{}
	}
	return &ListAttemptLogsOutput{PipelineID: in.PipelineID, AttemptID: al.id, LogLocation: al.location, Files: files}, nil
}

// GetAttemptLog opens one file of an attempt's logs.
func (s *Service) GetAttemptLog(ctx context.Context, in *GetAttemptLogInput) (*GetAttemptLogOutput, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	al, err := s.attemptLogLocation(ctx, in.PipelineID, in.AttemptID)
	if err != nil {
		return nil, err
	}
	names := []string{in.Name}
	if in.Name == "stdout" || in.Name == "stderr" {
		names = append(names, in.Name+".log")
	}
	for _, name := range names {
		body, size, err := s.cfg.Logs.OpenLog(ctx, al.location, name)
		if err == nil {
			return &GetAttemptLogOutput{LogLocation: al.location, Name: name, Size: size, Body: body}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, al.readError(ctx, err)
		}
	}
	// Not there: say whether the location is, and what it holds.
	files, err := s.cfg.Logs.ListLogs(ctx, al.location)
	if err != nil {
		return nil, al.readError(ctx, err)
	}
	have := "nothing yet"
	if len(files) > 0 {
		const shown = 20
		var list []string
		for i, f := range files {
			if i == shown {
				list = append(list, fmt.Sprintf("and %d more", len(files)-shown))
				break
			}
			list = append(list, f.Name)
		}
		have = strings.Join(list, ", ")
	}
	return nil, resourceNotFound("Attempt %s has no log file %s at %s; it has %s.", al.id, quoteClipped(in.Name), al.location, have)
}

// readError turns a LogReader's error into the caller's answer, naming
// the location, and keeps the reader's detail (which may be about the
// server's own configuration) for the server's log.
func (al *attemptLog) readError(ctx context.Context, err error) error {
	var apiErr *Error
	switch {
	case errors.Is(err, fs.ErrNotExist) && hasScheme(al.location, "s3"):
		apiErr = resourceNotFound("The logs of attempt %s are at %s, which does not exist (no such bucket).", al.id, al.location)
	case errors.Is(err, fs.ErrNotExist):
		host := "another host"
		if al.hostname != "" {
			host = "host " + strconv.Quote(al.hostname)
		}
		apiErr = resourceNotFound("The logs of attempt %s are at %s, which is not on this server: its task runner on %s wrote them there. "+
			"Read them on that host, or give the pipeline a pipelineLogUri on S3 so that runners copy them there.", al.id, al.location, host)
	case errors.Is(err, fs.ErrPermission):
		apiErr = accessDenied("culvert may not read the logs of attempt %s at %s: access was refused, or a name there leads outside it.",
			al.id, al.location)
	case ctx.Err() != nil:
		return err
	default:
		apiErr = logsUnavailable("The logs of attempt %s at %s could not be read; the server's log has the reason (request %s).",
			al.id, al.location, awsjson.RequestIDFrom(ctx))
	}
	return fmt.Errorf("%w: %w", apiErr, err)
}
