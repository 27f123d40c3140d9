package objstore_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/objstore/s3test"
)

const mib = 1 << 20

// random is reproducible bytes that do not repeat on part boundaries,
// made once for all tests.
var random = sync.OnceValue(func() []byte {
	b := make([]byte, 20*mib+3)
	rand.NewChaCha8([32]byte{'c', 'u', 'l', 'v', 'e', 'r', 't'}).Read(b)
	return b
})

// small makes multipart uploads from 5 MiB, S3's smallest part, so that
// tests of other things than the defaults move less data.
var small = objstore.Config{PartSize: 5 * mib, MultipartThreshold: 5 * mib}

// onlyReader hides everything but Read, as a stream of unknown length.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// multipart describes the multipart upload requests among reqs.
type multipart struct {
	Creates, Parts, Completes, Aborts, Puts int
}

func countMultipart(reqs []s3test.Request) multipart {
	var m multipart
	for _, r := range reqs {
		_, uploads := r.Query["uploads"]
		switch {
		case r.Method == "POST" && uploads:
			m.Creates++
		case r.Method == "PUT" && r.Query.Get("partNumber") != "":
			m.Parts++
		case r.Method == "POST" && r.Query.Get("uploadId") != "":
			m.Completes++
		case r.Method == "DELETE" && r.Query.Get("uploadId") != "":
			m.Aborts++
		case r.Method == "PUT" && strings.Count(r.Path, "/") > 1: // not CreateBucket
			m.Puts++
		}
	}
	return m
}

// TestPutMultipart streams bodies above the threshold (16 MiB by
// default): they go up in parts (8 MiB by default) and come back whole.
func TestPutMultipart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  objstore.Config
		size int
		put  func(t *testing.T, st *objstore.Store, dir, uri string, data []byte) error
	}{
		{"stream", objstore.Config{}, 20*mib + 3, func(t *testing.T, st *objstore.Store, _, uri string, data []byte) error {
			return st.Put(t.Context(), uri, onlyReader{bytes.NewReader(data)})
		}},
		{"pipe", small, 11 * mib, func(t *testing.T, st *objstore.Store, _, uri string, data []byte) error {
			// An *os.File that cannot seek, as a command's stdout.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			go func() {
				w.Write(data)
				w.Close()
			}()
			return st.Put(t.Context(), uri, r)
		}},
		{"file", small, 11 * mib, func(t *testing.T, st *objstore.Store, dir, uri string, data []byte) error {
			name := filepath.Join(dir, "big.bin")
			if err := os.WriteFile(name, data, 0o666); err != nil {
				t.Fatal(err)
			}
			return st.UploadFile(t.Context(), name, uri)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, b := setupWith(t, tc.cfg)
			data := random()[:tc.size]
			uri := "s3://" + bucket + "/big/" + tc.name + ".bin"
			if err := tc.put(t, st, b.dir, uri, data); err != nil {
				t.Fatal(err)
			}
			want := multipart{Creates: 1, Parts: 3, Completes: 1}
			if got := countMultipart(b.srv.Requests()); got != want {
				t.Errorf("requests: %+v, want %+v", got, want)
			}
			r, err := st.Get(t.Context(), uri)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil || n != int64(tc.size) || !bytes.Equal(h.Sum(nil), sha256Sum(data)) {
				t.Errorf("Get(%q) read %d bytes (%v), want the %d put", uri, n, err, tc.size)
			}
		})
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestPutBelowThresholdIsOneRequest(t *testing.T) {
	t.Parallel()
	st, b := setupWith(t, small)
	put(t, st, "s3://"+bucket+"/small", string(random()[:5*mib-1]))
	if got, want := countMultipart(b.srv.Requests()), (multipart{Puts: 1}); got != want {
		t.Errorf("requests: %+v, want %+v", got, want)
	}
}

// failingReader yields n bytes, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

var errBroken = errors.New("the command's output broke off")

// TestPutFailedStream checks that a body that fails leaves nothing
// behind: no object, no multipart upload, no partial or temporary file,
// and an earlier file untouched.
func TestPutFailedStream(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st, b := setupWith(t, small)
			ctx := t.Context()
			keep, gone := objstore.Join(be.root(b), "keep.bin"), objstore.Join(be.root(b), "gone.bin")
			put(t, st, keep, "earlier")
			for _, uri := range []string{keep, gone} {
				err := st.Put(ctx, uri, &failingReader{r: bytes.NewReader(random()[:6*mib]), err: errBroken})
				if !errors.Is(err, errBroken) {
					t.Errorf("Put(%q) = %v, want %v", uri, err, errBroken)
				}
			}
			if got := get(t, st, keep); got != "earlier" {
				t.Errorf("Get(%q) = %q, want the earlier body", keep, got)
			}
			if ok, err := st.Exists(ctx, gone); ok || err != nil {
				t.Errorf("Exists(%q) = %v, %v; want false, nil", gone, ok, err)
			}
			if be.name == "s3" {
				m := countMultipart(b.srv.Requests())
				if m.Creates != 2 || m.Aborts != 2 || m.Completes != 0 {
					t.Errorf("requests: %+v, want 2 multipart uploads, both aborted", m)
				}
			} else if got := tree(t, b.dir); !cmp.Equal(got, map[string]string{"keep.bin": "earlier"}) {
				t.Errorf("%s holds %v, want keep.bin alone", b.dir, got)
			}
		})
	}
}

// tree reads the files under dir, name → body, with "name/" → "" for
// each directory.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel := filepath.ToSlash(p[len(dir)+1:])
		switch {
		case d.IsDir():
			got[rel+"/"] = ""
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			got[rel] = "-> " + target
			return err
		default:
			b, err := os.ReadFile(p)
			got[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// keys reads the objects under prefix in bucket, name below the prefix →
// body.
func keys(t *testing.T, srv *s3test.Server, prefix string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, k := range srv.Keys(t, bucket, prefix) {
		got[strings.TrimPrefix(k, prefix)] = srv.GetObject(t, bucket, k)
	}
	return got
}

// TestStageRoundTrip stages a nested S3 directory to disk and back, as
// ShellCommandActivity with stage true does (spec §9.4), and between
// local directories (docs/assumptions/0018-object-storage.md).
func TestStageRoundTrip(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"s3://" + bucket + "/in", "s3://" + bucket + "/in/"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			st, b := setup(t)
			ctx := t.Context()
			b.srv.PutObjects(t, bucket, map[string]string{
				"in/a.txt":         "A",
				"in/d1/b.txt":      "B",
				"in/d1/d2/c.txt":   "C",
				"in/d1/d2/e/f.txt": "",
				"in/folder/":       "", // a folder made in the S3 console: no file, no directory
				"input.csv":        "not under in/",
				"in-x/y.txt":       "not under in/",
			})
			wantTree := map[string]string{
				"a.txt": "A", "d1/": "", "d1/b.txt": "B", "d1/d2/": "", "d1/d2/c.txt": "C", "d1/d2/e/": "", "d1/d2/e/f.txt": "",
			}
			wantKeys := map[string]string{"a.txt": "A", "d1/b.txt": "B", "d1/d2/c.txt": "C", "d1/d2/e/f.txt": ""}

			stage := filepath.Join(b.dir, "stage", "INPUT1")
			if err := st.Download(ctx, prefix, stage); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantTree, tree(t, stage)); diff != "" {
				t.Errorf("Download mismatch (-want +got):\n%s", diff)
			}

			if err := st.Upload(ctx, stage, "s3://"+bucket+"/out"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantKeys, keys(t, b.srv, "out/")); diff != "" {
				t.Errorf("Upload mismatch (-want +got):\n%s", diff)
			}

			// Local to local, in both directions.
			copied := filepath.Join(b.dir, "copied")
			if err := st.Upload(ctx, "file://"+stage+"/", copied); err != nil {
				t.Fatal(err)
			}
			again := filepath.Join(b.dir, "again")
			if err := st.Download(ctx, copied, "file://"+again); err != nil {
				t.Fatal(err)
			}
			for dir, want := range map[string]map[string]string{copied: wantKeys, again: wantKeys} {
				got := map[string]string{}
				for k, v := range tree(t, dir) {
					if !strings.HasSuffix(k, "/") {
						got[k] = v
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("local copy %s mismatch (-want +got):\n%s", dir, diff)
				}
			}
		})
	}
}

// TestStageReplaces pins what staging does to what is already there:
// same names are replaced, others left alone
// (docs/assumptions/0018-object-storage.md).
func TestStageReplaces(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	ctx := t.Context()
	b.srv.PutObjects(t, bucket, map[string]string{"in/a.txt": "new", "out/a.txt": "old", "out/other.txt": "kept"})
	if err := os.WriteFile(filepath.Join(b.dir, "a.txt"), []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mine.txt"), []byte("kept"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := st.Download(ctx, "s3://"+bucket+"/in", b.dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a.txt": "new", "mine.txt": "kept"}, tree(t, b.dir)); diff != "" {
		t.Errorf("Download mismatch (-want +got):\n%s", diff)
	}
	if err := st.Upload(ctx, b.dir, "s3://"+bucket+"/out/"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a.txt": "new", "mine.txt": "kept", "other.txt": "kept"}, keys(t, b.srv, "out/")); diff != "" {
		t.Errorf("Upload mismatch (-want +got):\n%s", diff)
	}
}

func TestDownloadEmptyPrefix(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	for _, prefix := range []string{"s3://" + bucket + "/nothing", filepath.Join(b.dir, "nothing")} {
		stage := filepath.Join(b.dir, "stage", filepath.Base(filepath.Dir(prefix)))
		if err := st.Download(t.Context(), prefix, stage); err != nil {
			t.Fatalf("Download(%q): %v", prefix, err)
		}
		if ents, err := os.ReadDir(stage); err != nil || len(ents) != 0 {
			t.Errorf("Download(%q) made %v (%v), want an empty directory", prefix, ents, err)
		}
	}
}

// TestDownloadRefusesNames checks that no key can put a file anywhere
// but where its name says, under the staging directory: names with empty,
// "." or ".." parts are refused before anything is written, and links
// already in the directory are not followed out of it
// (docs/assumptions/0018-object-storage.md).
func TestDownloadRefusesNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, key string }{
		{"dotdot", "in/../escaped.txt"},
		{"deeper dotdot", "in/d/../../escaped.txt"},
		{"dot", "in/./escaped.txt"},
		{"empty part", "in//escaped.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, b := setup(t)
			b.srv.PutObjects(t, bucket, map[string]string{"in/a.txt": "fine", tc.key: "evil"})
			stage := filepath.Join(b.dir, "stage")
			err := st.Download(t.Context(), "s3://"+bucket+"/in", stage)
			if !errors.Is(err, objstore.ErrInvalidURI) || !strings.Contains(err.Error(), "s3://"+bucket+"/"+tc.key+" cannot be a file under "+stage+"/") {
				t.Errorf("Download = %v, want ErrInvalidURI naming the key", err)
			}
			if got := tree(t, b.dir); len(got) != 0 {
				t.Errorf("Download wrote %v, want nothing", got)
			}
		})
	}

	t.Run("link out of the directory", func(t *testing.T) {
		t.Parallel()
		st, b := setup(t)
		b.srv.PutObjects(t, bucket, map[string]string{"in/link/escaped.txt": "evil"})
		stage, outside := filepath.Join(b.dir, "stage"), filepath.Join(b.dir, "outside")
		for _, d := range []string{stage, outside} {
			if err := os.Mkdir(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(outside, filepath.Join(stage, "link")); err != nil {
			t.Fatal(err)
		}
		if err := st.Download(t.Context(), "s3://"+bucket+"/in", stage); err == nil {
			t.Error("Download through a link out of the directory succeeded")
		}
		if got := tree(t, outside); len(got) != 0 {
			t.Errorf("Download wrote %v outside the directory", got)
		}
	})
}

// TestUploadWhatIsAFile pins what Upload takes from a directory: regular
// files and links to them, not links to directories, dangling links or
// empty directories (docs/assumptions/0018-object-storage.md).
func TestUploadWhatIsAFile(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	out, elsewhere := filepath.Join(b.dir, "out"), filepath.Join(b.dir, "elsewhere")
	for name, body := range map[string]string{"out/a.txt": "A", "out/d/b.txt": "B", "elsewhere/f.txt": "F"} {
		p := filepath.Join(b.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"file-link": filepath.Join(elsewhere, "f.txt"),
		"dir-link":  elsewhere,
		"dangling":  filepath.Join(b.dir, "nothing"),
	} {
		if err := os.Symlink(target, filepath.Join(out, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(out, "empty"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(t.Context(), out, "s3://"+bucket+"/up"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.txt": "A", "d/b.txt": "B", "file-link": "F"}
	if diff := cmp.Diff(want, keys(t, b.srv, "up/")); diff != "" {
		t.Errorf("Upload mismatch (-want +got):\n%s", diff)
	}
}

func TestUploadNeedsADirectory(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	file := filepath.Join(b.dir, "file.txt")
	put(t, st, file, "x")
	for _, tc := range []struct {
		dir  string
		want func(error) bool
	}{
		{filepath.Join(b.dir, "missing"), func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{file, func(err error) bool { return err != nil && err.Error() == "upload "+file+": not a directory" }},
	} {
		if err := st.Upload(t.Context(), tc.dir, "s3://"+bucket+"/out"); !tc.want(err) {
			t.Errorf("Upload(%q) = %v", tc.dir, err)
		}
	}
}

func TestDownloadFileUploadFile(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	ctx := t.Context()
	b.srv.PutObject(t, bucket, "scripts/run.sh", "echo hi\n")
	local := filepath.Join(b.dir, "attempt", "script", "run.sh")
	if err := st.DownloadFile(ctx, "s3://"+bucket+"/scripts/run.sh", local); err != nil {
		t.Fatal(err)
	}
	if err := st.UploadFile(ctx, "file://"+local, "s3://"+bucket+"/logs/copy.sh"); err != nil {
		t.Fatal(err)
	}
	if got := b.srv.GetObject(t, bucket, "logs/copy.sh"); got != "echo hi\n" {
		t.Errorf("round trip gave %q", got)
	}

	missing := filepath.Join(b.dir, "attempt", "missing.sh")
	if err := st.DownloadFile(ctx, "s3://"+bucket+"/scripts/missing.sh", missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DownloadFile of a missing object = %v, want fs.ErrNotExist", err)
	}
	if err := st.UploadFile(ctx, missing, "s3://"+bucket+"/logs/missing.sh"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("UploadFile of a missing file = %v, want fs.ErrNotExist", err)
	}
	if diff := cmp.Diff(map[string]string{"attempt/": "", "attempt/script/": "", "attempt/script/run.sh": "echo hi\n"}, tree(t, b.dir)); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
}
