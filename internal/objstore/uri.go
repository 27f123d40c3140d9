package objstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrInvalidURI is wrapped by every error about a URI (or local path) that
// culvert cannot use: an unknown scheme, a relative path, a ".." segment,
// an S3 URI without a bucket, or a directory where an object is needed.
var ErrInvalidURI = errors.New("invalid URI")

// location is a parsed URI: an S3 object or prefix, or a local path.
type location struct {
	s3     bool
	bucket string // S3 only
	// key is the S3 key, or the cleaned absolute local path. Both use
	// "/" as the separator, so prefixes compare the same way on both.
	key  string
	file bool // local, written as file://
	dir  bool // written with a trailing "/"
}

// parse reads a URI as pipeline definitions write them (spec §3.3:
// S3DataNode filePath, ShellCommandActivity stdout, …). Neither form is
// percent-decoded: S3 URIs in definitions carry keys literally
// ("s3://bucket/my file.csv"), and culvert reads file URIs the same way
// (docs/assumptions/0018-object-storage.md).
func parse(uri string) (location, error) {
	switch {
	case uri == "":
		return location{}, fmt.Errorf("%w: empty; use s3://bucket/key, an absolute path or file:///absolute/path", ErrInvalidURI)
	case hasScheme(uri, "s3"):
		bucket, key, _ := strings.Cut(uri[len("s3://"):], "/")
		if bucket == "" {
			return location{}, fmt.Errorf("%w %q: no bucket; use s3://bucket/key", ErrInvalidURI, uri)
		}
		return location{s3: true, bucket: bucket, key: key, dir: key == "" || strings.HasSuffix(key, "/")}, nil
	case hasScheme(uri, "file"):
		p := uri[len("file://"):]
		if rest, ok := strings.CutPrefix(p, "localhost/"); ok {
			p = "/" + rest
		}
		if !strings.HasPrefix(p, "/") {
			return location{}, fmt.Errorf("%w %q: a file URI names an absolute path on this machine, as in file:///data/in.csv", ErrInvalidURI, uri)
		}
		l, err := local(uri, p)
		l.file = true
		return l, err
	}
	if i := strings.Index(uri, "://"); i > 0 && isScheme(uri[:i]) {
		return location{}, fmt.Errorf("%w %q: culvert reads and writes s3:// URIs and local paths, not %s://", ErrInvalidURI, uri, uri[:i])
	}
	return local(uri, uri)
}

// local checks a local path. Relative paths are refused because a
// runner's working directory is nobody's business in a pipeline
// definition, and ".." segments because a path that climbs out of where
// it seems to point is almost always an expression gone wrong.
func local(uri, p string) (location, error) {
	if !strings.HasPrefix(p, "/") {
		return location{}, fmt.Errorf("%w %q: a relative path; use an absolute path, file:///absolute/path or s3://bucket/key", ErrInvalidURI, uri)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return location{}, fmt.Errorf("%w %q: a path may not contain ..", ErrInvalidURI, uri)
		}
	}
	clean := filepath.ToSlash(filepath.Clean(p))
	return location{key: clean, dir: clean == "/" || strings.HasSuffix(p, "/")}, nil
}

func hasScheme(uri, scheme string) bool {
	n := len(scheme)
	return len(uri) >= n+3 && strings.EqualFold(uri[:n], scheme) && uri[n:n+3] == "://"
}

// isScheme reports whether s has the syntax of a URI scheme (RFC 3986
// §3.1), so that "hdfs://x" is called an unknown scheme rather than a
// relative path.
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// object checks that l names an object, not a prefix: Get, Put and Stat
// need one.
func (l location) object() error {
	if l.dir {
		return fmt.Errorf("%w %q: names a directory, not an object", ErrInvalidURI, l.String())
	}
	return nil
}

// path is the local path in the operating system's form.
func (l location) path() string { return filepath.FromSlash(l.key) }

// String writes l back as a URI: s3://bucket/key, file:///path or /path.
func (l location) String() string {
	switch {
	case l.s3:
		return "s3://" + l.bucket + "/" + l.key
	case l.file:
		return "file://" + l.trail()
	default:
		return l.trail()
	}
}

func (l location) trail() string {
	if l.dir && l.key != "/" {
		return l.key + "/"
	}
	return l.key
}

// asDir is l as a directory: its key ends in "/" (S3) or it is walked
// as a directory (local). Download and Upload treat their URI so, so that
// s3://b/in does not also take s3://b/input.csv.
func (l location) asDir() location {
	if l.s3 && l.key != "" && !strings.HasSuffix(l.key, "/") {
		l.key += "/"
	}
	l.dir = true
	return l
}

// prefix is what names under l begin with when l is a directory: the S3
// key as is, or the local path with a "/".
func (l location) prefix() string {
	if !l.s3 && l.dir && l.key != "/" {
		return l.key + "/"
	}
	return l.key
}

// child is the object at rel ("/"-separated) under the directory l.
func (l location) child(rel string) location {
	c := l
	c.key = l.asDir().prefix() + rel
	c.dir = false
	return c
}

// Join appends path elements to a URI with single slashes between them, as
// a runner builds an attempt's log location under pipelineLogUri (spec
// §9.4: pipelineLogUri/<pipelineId>/<componentId>/<instanceId>/<attemptId>/).
// It neither checks nor cleans the result; the operation that uses it does.
func Join(uri string, elem ...string) string {
	s := uri
	for _, e := range elem {
		if e = strings.Trim(e, "/"); e == "" {
			continue
		}
		if !strings.HasSuffix(s, "/") {
			s += "/"
		}
		s += e
	}
	return s
}
