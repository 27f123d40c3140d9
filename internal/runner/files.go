package runner

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"

	"github.com/culvert/culvert/internal/objstore"
)

// Files reads and writes the files a task names by URI: S3 URIs
// (s3://bucket/key), absolute local paths and file:// URLs, for a
// scriptUri, the stdout and stderr paths, S3DataNode locations,
// preconditions and pipelineLogUri. [*objstore.Store] implements it, with
// the rules of docs/assumptions/0018-object-storage.md; tests may use
// fakes.
//
// Every method returns an error wrapping [objstore.ErrInvalidURI] for a
// URI it cannot use (an unknown scheme, a relative path, a directory where
// an object is needed), an [*objstore.S3Error] when S3 refuses, and the
// operating system's error for local files.
type Files interface {
	// Get opens the object at uri for reading; the caller closes it. A
	// missing object is an error satisfying errors.Is(err,
	// fs.ErrNotExist).
	Get(ctx context.Context, uri string) (io.ReadCloser, error)
	// Put stores what r yields at uri, replacing any object there; no
	// reader ever sees half of it. A failed Put leaves the earlier object,
	// if any, in place.
	Put(ctx context.Context, uri string, r io.Reader) error
	// Stat describes the object at uri. A missing object is an error
	// satisfying errors.Is(err, fs.ErrNotExist).
	Stat(ctx context.Context, uri string) (objstore.Info, error)
	// Exists reports whether an object is at uri. It returns an error only
	// when the answer is unknown (a 403 among them).
	Exists(ctx context.Context, uri string) (bool, error)
	// List returns the objects whose URIs begin with prefixURI (a string
	// prefix, as S3 takes it), in key order; nothing is an empty list.
	List(ctx context.Context, prefixURI string) ([]objstore.Info, error)
	// PrefixNotEmpty reports whether List would list anything.
	PrefixNotEmpty(ctx context.Context, prefixURI string) (bool, error)
	// Download copies every object under the directory prefixURI into
	// localDir, keeping names below the prefix; an empty prefix is no
	// error.
	Download(ctx context.Context, prefixURI, localDir string) error
	// Upload copies every file under localDir to the directory prefixURI.
	Upload(ctx context.Context, localDir, prefixURI string) error
	// DownloadFile copies the object at uri to the file localPath. A
	// missing object is an error satisfying errors.Is(err,
	// fs.ErrNotExist).
	DownloadFile(ctx context.Context, uri, localPath string) error
	// UploadFile copies the file localPath to the object at uri.
	UploadFile(ctx context.Context, localPath, uri string) error
}

var _ Files = (*objstore.Store)(nil)

// dirURI is uri as a directory: with a trailing "/", so that a prefix
// s3://b/in takes s3://b/in/x and not s3://b/input.csv.
func dirURI(uri string) string {
	if strings.HasSuffix(uri, "/") {
		return uri
	}
	return uri + "/"
}

// baseName is the last element of a URI's path: the name an object is
// staged under.
func baseName(uri string) string {
	uri = strings.TrimRight(uri, "/")
	if i := strings.LastIndexByte(uri, '/'); i >= 0 {
		return uri[i+1:]
	}
	return uri
}

// isNotExist reports whether err says an object or file is missing, on S3
// as on disk.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
