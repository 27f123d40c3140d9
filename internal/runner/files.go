package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Files reads and writes the files a task names by URI: a scriptUri, the
// stdout and stderr paths, pipelineLogUri. [LocalFiles] handles local
// paths; an S3 implementation plugs in through the same interface.
type Files interface {
	// Get opens the file at uri for reading. It returns an error wrapping
	// [os.ErrNotExist] if there is none, and one wrapping
	// [ErrUnsupportedURI] if this Files cannot reach such a URI.
	Get(ctx context.Context, uri string) (io.ReadCloser, error)
	// Put stores what r holds at uri, replacing any file there, and
	// creating parent directories as needed. It returns an error wrapping
	// [ErrUnsupportedURI] if this Files cannot reach such a URI.
	Put(ctx context.Context, uri string, r io.Reader) error
}

// ErrUnsupportedURI is returned (wrapped) by a [Files] for a URI it cannot
// reach, such as s3://… for [LocalFiles].
var ErrUnsupportedURI = errors.New("unsupported URI")

// LocalFiles is [Files] for the local file system. A URI is an absolute or
// relative path (relative to the runner's working directory) or a file://
// URL; any other scheme is [ErrUnsupportedURI].
type LocalFiles struct{}

// LocalPath returns the local path uri names, or an error wrapping
// [ErrUnsupportedURI].
func LocalPath(uri string) (string, error) {
	if uri == "" {
		return "", fmt.Errorf("empty path: %w", ErrUnsupportedURI)
	}
	scheme, _, ok := strings.Cut(uri, "://")
	if !ok {
		return filepath.Abs(uri)
	}
	if !strings.EqualFold(scheme, "file") {
		return "", fmt.Errorf("%s: this runner reaches local paths only, not %s:// (S3 support is not built in yet): %w", uri, scheme, ErrUnsupportedURI)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host != "" && u.Host != "localhost" || u.Path == "" {
		return "", fmt.Errorf("%s: not a file URL of this machine: %w", uri, ErrUnsupportedURI)
	}
	return filepath.FromSlash(u.Path), nil
}

// Get implements [Files].
func (LocalFiles) Get(_ context.Context, uri string) (io.ReadCloser, error) {
	p, err := LocalPath(uri)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Put implements [Files]. It writes a temporary file next to the target
// and renames it, so a reader never sees half a file.
func (LocalFiles) Put(_ context.Context, uri string, r io.Reader) error {
	p, err := LocalPath(uri)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", p, err)
	}
	return nil
}

// joinURI appends path elements to a directory URI or path.
func joinURI(base string, elems ...string) string {
	return strings.TrimRight(base, "/") + "/" + strings.Join(elems, "/")
}
