package objstore

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Download copies every object under the directory prefixURI into
// localDir, keeping each object's path below the prefix: with prefixURI
// s3://b/in, s3://b/in/2024/a.csv becomes localDir/2024/a.csv. It stages
// an input for ShellCommandActivity with stage true (spec §9.4).
//
// prefixURI is taken as a directory, so s3://b/in and s3://b/in/ alike
// leave out s3://b/input.csv; it may be a local directory too. localDir
// (an absolute path or file:///absolute/path) is created if missing;
// files in it with the names of objects are replaced, others left alone.
// An empty prefix downloads nothing and is not an error: an input with no
// data stages an empty directory, and preconditions are what wait for
// data.
//
// An object whose name below the prefix has an empty, "." or ".." part
// cannot be a file under localDir; Download returns an error wrapping
// [ErrInvalidURI] for it before writing anything, and no object can be
// written outside localDir even through links in it. Each file is
// written whole or not at all. On the first error Download stops the
// other transfers and returns it: [ErrInvalidURI], [*S3Error], or a local
// error.
func (s *Store) Download(ctx context.Context, prefixURI, localDir string) error {
	src, err := parse(prefixURI)
	if err != nil {
		return err
	}
	dst, err := parseLocal(localDir)
	if err != nil {
		return err
	}
	src, dst = src.asDir(), dst.asDir()
	var objs []object
	if err := s.walk(ctx, src, func(o object) error { objs = append(objs, o); return nil }); err != nil {
		return err
	}
	rels := make([]string, len(objs))
	for i, o := range objs {
		rels[i] = strings.TrimPrefix(o.loc.key, src.prefix())
		if !localName(rels[i]) {
			return fmt.Errorf("%w: %s cannot be a file under %s: its name below %s has an empty, \".\" or \"..\" part", ErrInvalidURI, o.loc, dst, src)
		}
	}
	if err := os.MkdirAll(dst.path(), 0o777); err != nil {
		return err
	}
	// An os.Root keeps every write inside localDir, whatever links a
	// previous run left in it.
	root, err := os.OpenRoot(dst.path())
	if err != nil {
		return err
	}
	defer root.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for i, o := range objs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return s.fetch(gctx, o.loc, root, rels[i], dst) })
	}
	return g.Wait()
}

// fetch writes the object src to rel under root, the directory dst.
func (s *Store) fetch(ctx context.Context, src location, root *os.Root, rel string, dst location) error {
	if d := path.Dir(rel); d != "." {
		if err := root.MkdirAll(d, 0o777); err != nil {
			return fmt.Errorf("download %s to %s: %w", src, dst.child(rel), err)
		}
	}
	r, err := s.get(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := writeFile(root, rel, r); err != nil {
		return fmt.Errorf("download %s to %s: %w", src, dst.child(rel), err)
	}
	return nil
}

// localName reports whether rel, a "/"-separated name below a prefix, can
// be a file's path below a directory as it is: no part of it empty, "."
// or "..", which a file system would drop or climb with, so that two
// objects could land on one file or outside the directory.
func localName(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// Upload copies every file under localDir to the directory prefixURI,
// keeping each file's path below localDir: with prefixURI s3://b/out,
// localDir/2024/a.csv becomes s3://b/out/2024/a.csv. It pushes a staged
// output of ShellCommandActivity to its directoryPath (spec §9.4).
//
// prefixURI is taken as a directory (s3://b/out and s3://b/out/ alike)
// and may be a local directory too. Regular files and links to them are
// uploaded; links to directories and other kinds of file are not, and
// an empty directory leaves no trace (S3 has no directories). Objects
// under prefixURI with the name of a file are replaced, others left
// alone. localDir must exist and be a directory. On the first error
// Upload stops the other transfers and returns it: [ErrInvalidURI],
// [*S3Error], or a local error.
func (s *Store) Upload(ctx context.Context, localDir, prefixURI string) error {
	src, err := parseLocal(localDir)
	if err != nil {
		return err
	}
	dst, err := parse(prefixURI)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src.path())
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("upload %s: not a directory", src)
	}
	src, dst = src.asDir(), dst.asDir()
	var objs []object
	if err := walkTree(ctx, src, func(o object) error { objs = append(objs, o); return nil }); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for _, o := range objs {
		if gctx.Err() != nil {
			break
		}
		to := dst.child(strings.TrimPrefix(o.loc.key, src.prefix()))
		g.Go(func() error { return s.send(gctx, o.loc, to) })
	}
	return g.Wait()
}

// send puts the local file src as dst.
func (s *Store) send(ctx context.Context, src, dst location) error {
	f, err := os.Open(src.path())
	if err != nil {
		return err
	}
	defer f.Close()
	return s.put(ctx, dst, f)
}

// DownloadFile copies the object at uri to the file localPath (an
// absolute path or file:///absolute/path), creating its directory if
// missing and replacing the file whole, as a runner fetches a scriptUri.
// Errors are as for [Store.Get], and the local error if the file cannot
// be written.
func (s *Store) DownloadFile(ctx context.Context, uri, localPath string) error {
	src, err := parse(uri)
	if err == nil {
		err = src.object()
	}
	if err != nil {
		return err
	}
	dst, err := parseLocal(localPath)
	if err == nil {
		err = dst.object()
	}
	if err != nil {
		return err
	}
	r, err := s.get(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	return putLocal(dst, r)
}

// UploadFile copies the file localPath (an absolute path or
// file:///absolute/path) to the object at uri, as a runner pushes an
// attempt's stdout and stderr. Errors are as for [Store.Put], and the
// local error if the file cannot be opened.
func (s *Store) UploadFile(ctx context.Context, localPath, uri string) error {
	src, err := parseLocal(localPath)
	if err == nil {
		err = src.object()
	}
	if err != nil {
		return err
	}
	dst, err := parse(uri)
	if err == nil {
		err = dst.object()
	}
	if err != nil {
		return err
	}
	return s.send(ctx, src, dst)
}

// parseLocal parses a URI that must name a local path.
func parseLocal(uri string) (location, error) {
	l, err := parse(uri)
	if err == nil && l.s3 {
		err = fmt.Errorf("%w %q: a local path is needed here, an absolute path or file:///absolute/path", ErrInvalidURI, uri)
	}
	return l, err
}
