package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Entry is a file under a directory, named relative to it.
type Entry struct {
	Name    string // "/"-separated, relative to the directory
	Size    int64  // in bytes
	ModTime time.Time
}

// ErrOutside is wrapped by the error for a name that leads outside the
// directory [Store.OpenIn] reads: through a symbolic link, since the name
// itself is checked first. It satisfies errors.Is(err, fs.ErrPermission)
// too, being a refusal, not an absence.
var ErrOutside = errors.New("leads outside the directory")

type outsideError struct{ uri string }

func (e *outsideError) Error() string { return e.uri + ": " + ErrOutside.Error() }
func (e *outsideError) Is(target error) bool {
	return target == ErrOutside || target == fs.ErrPermission
}

// CheckRelName reports whether rel names a file below a directory and
// nothing else: not empty, not absolute, no "", "." or ".." element, no
// backslash (a separator elsewhere) and no control character. It returns
// an error wrapping [ErrInvalidURI] if not.
func CheckRelName(rel string) error {
	bad := func(why string) error { return fmt.Errorf("%w: name %q %s", ErrInvalidURI, rel, why) }
	switch {
	case rel == "":
		return bad("is empty")
	case strings.HasPrefix(rel, "/"):
		return bad("is absolute")
	case strings.ContainsAny(rel, "\\"):
		return bad("contains a backslash")
	case strings.ContainsFunc(rel, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("contains a control character")
	}
	for elem := range strings.SplitSeq(rel, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return bad("has an empty, . or .. element")
		}
	}
	return nil
}

// OpenIn opens the file rel under the directory dirURI for reading and
// returns its size (-1 if S3 did not say); the caller closes it. It never reads outside the
// directory: rel must pass [CheckRelName], and a local directory is
// opened as an [os.Root], so a symbolic link inside it that leads out is
// refused with an error wrapping [ErrOutside]. A missing file (or
// directory) satisfies errors.Is(err, fs.ErrNotExist). Other errors are
// as for [Store.Get].
func (s *Store) OpenIn(ctx context.Context, dirURI, rel string) (io.ReadCloser, int64, error) {
	if err := CheckRelName(rel); err != nil {
		return nil, 0, err
	}
	dir, err := parse(dirURI)
	if err != nil {
		return nil, 0, err
	}
	dir = dir.asDir()
	if dir.s3 {
		l := dir.child(rel)
		out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key)})
		if err != nil {
			return nil, 0, s3Error("GetObject", l, err)
		}
		size := int64(-1)
		if out.ContentLength != nil {
			size = *out.ContentLength
		}
		return out.Body, size, nil
	}
	root, err := os.OpenRoot(dir.path())
	if err != nil {
		return nil, 0, absent(err)
	}
	defer root.Close() // an open file outlives its Root
	f, err := root.Open(rel)
	if err != nil {
		return nil, 0, outside(dir, rel, absent(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, &dirError{dir.child(rel).String()}
	}
	return f, fi.Size(), nil
}

// outside returns the error for rel under the local directory dir that
// os.Root refused with err: an ErrOutside when rel resolves to a place
// outside dir (os.Root's own error for that has no exported identity),
// err otherwise.
func outside(dir location, rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	base, berr := filepath.EvalSymlinks(dir.path())
	real, rerr := filepath.EvalSymlinks(filepath.Join(dir.path(), filepath.FromSlash(rel)))
	if berr == nil && rerr == nil && !within(base, real) {
		return &outsideError{dir.child(rel).String()}
	}
	return err
}

func within(dir, p string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// ListIn returns the files under the directory dirURI, named relative to
// it, sorted by name. On S3 that is every object under the prefix
// dirURI/ (keys ending in "/" aside), and nothing there is an empty list.
// Locally it is the regular files below the directory and the links to
// regular files that stay inside it (links to directories are not
// followed), and a missing directory is an error satisfying
// errors.Is(err, fs.ErrNotExist): a local location that is not on this
// machine is not the same as an empty one. Other errors are as for
// [Store.List].
func (s *Store) ListIn(ctx context.Context, dirURI string) ([]Entry, error) {
	dir, err := parse(dirURI)
	if err != nil {
		return nil, err
	}
	dir = dir.asDir()
	var out []Entry
	if dir.s3 {
		prefix := dir.prefix()
		err := s.walk(ctx, dir, func(o object) error {
			out = append(out, Entry{Name: strings.TrimPrefix(o.loc.key, prefix), Size: o.size, ModTime: o.mod})
			return nil
		})
		return out, err
	}
	root, err := os.OpenRoot(dir.path())
	if err != nil {
		return nil, absent(err)
	}
	defer root.Close()
	// WalkDir goes in lexical order, element by element; names compare
	// as whole paths below, as on S3.
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("list %s: %w", dir.child(rel), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		// Through the Root, a link is followed only while it stays
		// inside; one that leads out, or nowhere, is left out.
		fi, err := root.Stat(rel)
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		out = append(out, Entry{Name: rel, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
