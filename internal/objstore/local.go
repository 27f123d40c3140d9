package objstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// dirError is the error for a local directory where an object is wanted.
// On S3 a "directory" is only a prefix, and HeadObject on it finds
// nothing; a local directory counts as missing the same way, so that
// S3KeyExists on it is false on both.
type dirError struct{ uri string }

func (e *dirError) Error() string        { return e.uri + ": is a directory, not a file" }
func (e *dirError) Is(target error) bool { return target == fs.ErrNotExist }

// absentError is an operating system error that says a file is not
// there without being fs.ErrNotExist: ENOTDIR, for a path through a file
// (/data/in.csv/x). On S3 that object would be as missing as any other.
type absentError struct{ err error }

func (e *absentError) Error() string        { return e.err.Error() }
func (e *absentError) Unwrap() error        { return e.err }
func (e *absentError) Is(target error) bool { return target == fs.ErrNotExist }

// absent returns err, marked as fs.ErrNotExist if it says a path is not
// there in another way.
func absent(err error) error {
	if missing(err) && !errors.Is(err, fs.ErrNotExist) {
		return &absentError{err}
	}
	return err
}

func getLocal(l location) (io.ReadCloser, error) {
	f, err := os.Open(l.path())
	if err != nil {
		return nil, absent(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, &dirError{l.String()}
	}
	return f, nil
}

func statLocal(l location) (object, error) {
	fi, err := os.Stat(l.path())
	if err != nil {
		return object{}, absent(err)
	}
	if fi.IsDir() {
		return object{}, &dirError{l.String()}
	}
	return object{loc: l, size: fi.Size(), mod: fi.ModTime()}, nil
}

func putLocal(l location, r io.Reader) error {
	dir := filepath.Dir(l.path())
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := writeFile(root, filepath.Base(l.path()), r); err != nil {
		return fmt.Errorf("write %s: %w", l, err)
	}
	return nil
}

// writeFile writes r to name under root through a hidden temporary file
// renamed into place, so that the file is never seen half written and a
// failed write leaves nothing behind. name is "/"-separated and its
// directory exists.
func writeFile(root *os.Root, name string, r io.Reader) error {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".culvert-"+rand.Text()[:12]+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	return nil
}

// missing reports whether err says a path is not there: it does not
// exist, or a part of it is a file.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// walkLocal calls fn with each regular file under the local prefix l, as
// [Store.List] describes. A prefix that ends in "/" (or is "/") is a
// directory, walked whole; any other matches the entries of its parent
// directory whose names begin with its last element, so that /data/in
// takes /data/input.csv and /data/in/x as S3 would, without walking more
// of the parent than matches.
func walkLocal(ctx context.Context, l location, fn func(object) error) error {
	if l.dir {
		return walkTree(ctx, l, fn)
	}
	parent, base := path.Split(l.key)
	ents, err := os.ReadDir(filepath.FromSlash(parent))
	if missing(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), base) {
			continue
		}
		m := location{key: parent + e.Name(), file: l.file}
		// The user named these entries, so links among them are
		// followed, to directories too.
		fi, err := os.Stat(m.path())
		switch {
		case missing(err):
			continue // a dangling link
		case err != nil:
			return err
		case fi.IsDir():
			err = walkTree(ctx, m.asDir(), fn)
		case fi.Mode().IsRegular():
			err = fn(object{loc: m, size: fi.Size(), mod: fi.ModTime()})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// walkTree calls fn with each regular file under the directory dir, and
// each link to one. Links to directories are not followed, so that a
// link cannot make the walk endless; a missing directory is empty.
func walkTree(ctx context.Context, dir location, fn func(object) error) error {
	root := dir.path()
	return fs.WalkDir(os.DirFS(root), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel == "." && missing(err) {
				return fs.SkipAll
			}
			if rel == "." {
				return fmt.Errorf("list %s: %w", dir, err)
			}
			return fmt.Errorf("list %s: %w", dir.child(rel), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		var fi fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err = os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
			if missing(err) {
				return nil // a dangling link
			}
		} else {
			fi, err = d.Info()
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", dir.child(rel), err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		return fn(object{loc: dir.child(rel), size: fi.Size(), mod: fi.ModTime()})
	})
}
