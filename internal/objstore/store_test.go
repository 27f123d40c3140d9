package objstore_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/objstore/s3test"
)

const bucket = "culvert-test"

type testBundle struct {
	srv *s3test.Server
	dir string // a fresh temporary directory
}

// setup starts an in-process S3 with one bucket and returns a Store
// talking to it over HTTP through the real SDK.
func setup(t *testing.T) (*objstore.Store, *testBundle) {
	t.Helper()
	return setupWith(t, objstore.Config{})
}

func setupWith(t *testing.T, cfg objstore.Config) (*objstore.Store, *testBundle) {
	t.Helper()
	srv := s3test.New(t)
	srv.CreateBucket(t, bucket)
	st, err := objstore.New(srv.Config(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st, &testBundle{srv: srv, dir: t.TempDir()}
}

// backends are the three ways to write a root under which a test works:
// an S3 prefix, a local path and a file URI.
var backends = []struct {
	name string
	root func(b *testBundle) string
}{
	{"s3", func(*testBundle) string { return "s3://" + bucket + "/root" }},
	{"path", func(b *testBundle) string { return b.dir }},
	{"file", func(b *testBundle) string { return "file://" + b.dir }},
}

func get(t *testing.T, st *objstore.Store, uri string) string {
	t.Helper()
	r, err := st.Get(t.Context(), uri)
	if err != nil {
		t.Fatalf("Get(%q): %v", uri, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", uri, err)
	}
	return string(b)
}

func put(t *testing.T, st *objstore.Store, uri, body string) {
	t.Helper()
	if err := st.Put(t.Context(), uri, strings.NewReader(body)); err != nil {
		t.Fatalf("Put(%q): %v", uri, err)
	}
}

func TestPutGetStat(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st, b := setup(t)
			ctx := t.Context()
			for _, tc := range []struct{ name, body string }{
				{"d1/d2/a.txt", "hello"},
				{"d1/d2/a.txt", "replaced, longer"},
				{"empty", ""},
			} {
				uri := objstore.Join(be.root(b), tc.name)
				put(t, st, uri, tc.body)
				if got := get(t, st, uri); got != tc.body {
					t.Errorf("Get(%q) = %q, want %q", uri, got, tc.body)
				}
				info, err := st.Stat(ctx, uri)
				if err != nil {
					t.Fatalf("Stat(%q): %v", uri, err)
				}
				if info.URI != uri || info.Size != int64(len(tc.body)) || info.ModTime.IsZero() {
					t.Errorf("Stat(%q) = %+v, want URI %q, Size %d and a ModTime", uri, info, uri, len(tc.body))
				}
				if ok, err := st.Exists(ctx, uri); !ok || err != nil {
					t.Errorf("Exists(%q) = %v, %v; want true, nil", uri, ok, err)
				}
			}
		})
	}
}

// TestMissing pins what counts as missing on both backends
// (docs/assumptions/0018-object-storage.md).
func TestMissing(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	ctx := t.Context()
	put(t, st, filepath.Join(b.dir, "file.txt"), "x")
	if err := os.Mkdir(filepath.Join(b.dir, "dir"), 0o777); err != nil {
		t.Fatal(err)
	}
	put(t, st, "s3://"+bucket+"/dir/x", "x")
	for _, tc := range []struct {
		name, uri string
		get, stat string // the errors' messages; "" to skip the comparison
	}{
		{"s3 key", "s3://" + bucket + "/nope.csv",
			"GetObject s3://culvert-test/nope.csv: Status Code: 404, AWS Service: Amazon S3, AWS Request ID: ",
			"HeadObject s3://culvert-test/nope.csv: Status Code: 404, AWS Service: Amazon S3, AWS Request ID: "},
		{"s3 prefix is no object", "s3://" + bucket + "/dir", "AWS Error Code: NoSuchKey", "AWS Error Code: null, AWS Error Message: Not Found"},
		{"s3 bucket", "s3://no-such-bucket/x", "AWS Error Code: NoSuchBucket, AWS Error Message: The specified bucket does not exist", ""},
		{"local file", filepath.Join(b.dir, "nope.txt"), "no such file or directory", "no such file or directory"},
		{"local parent", "file://" + filepath.Join(b.dir, "nope", "x.txt"), "no such file or directory", ""},
		{"local through a file", filepath.Join(b.dir, "file.txt", "x"), "not a directory", "not a directory"},
		{"local directory", filepath.Join(b.dir, "dir"), ": is a directory, not a file", ": is a directory, not a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := st.Get(ctx, tc.uri)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(fmt.Sprint(err), tc.get) {
				t.Errorf("Get(%q) = %v; want fs.ErrNotExist saying %q", tc.uri, err, tc.get)
			}
			_, err = st.Stat(ctx, tc.uri)
			if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(fmt.Sprint(err), tc.stat) {
				t.Errorf("Stat(%q) = %v; want fs.ErrNotExist saying %q", tc.uri, err, tc.stat)
			}
			if ok, err := st.Exists(ctx, tc.uri); ok || err != nil {
				t.Errorf("Exists(%q) = %v, %v; want false, nil", tc.uri, ok, err)
			}
		})
	}
}

// TestS3Errors pins the message of S3's refusals (spec §9.4): the
// operation and URI, then AWS Data Pipeline's wording, with null for what
// a HEAD answer lacks (docs/assumptions/0018-object-storage.md).
func TestS3Errors(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	ctx := t.Context()
	b.srv.CreateBucket(t, "locked")
	b.srv.PutObject(t, "locked", "k", "secret")
	b.srv.Deny("locked")
	// s3test numbers its refusals, and x-amz-id-2 is base64 of the id
	// twice.
	const suffix = ", AWS Error Code: AccessDenied, AWS Error Message: Access Denied, S3 Extended Request ID: "
	for i, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"Get", func() error { _, err := st.Get(ctx, "s3://locked/k"); return err },
			"GetObject s3://locked/k: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000001" + suffix + "REVOSUVEMDAwMDAwMDAwMURFTklFRDAwMDAwMDAwMDE="},
		{"Stat", func() error { _, err := st.Stat(ctx, "s3://locked/k"); return err },
			"HeadObject s3://locked/k: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000002, AWS Error Code: null, AWS Error Message: Forbidden, S3 Extended Request ID: REVOSUVEMDAwMDAwMDAwMkRFTklFRDAwMDAwMDAwMDI="},
		{"Exists", func() error { _, err := st.Exists(ctx, "s3://locked/k"); return err },
			"HeadObject s3://locked/k: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000003, AWS Error Code: null, AWS Error Message: Forbidden, S3 Extended Request ID: REVOSUVEMDAwMDAwMDAwM0RFTklFRDAwMDAwMDAwMDM="},
		{"Put", func() error { return st.Put(ctx, "s3://locked/k", strings.NewReader("x")) },
			"PutObject s3://locked/k: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000004" + suffix + "REVOSUVEMDAwMDAwMDAwNERFTklFRDAwMDAwMDAwMDQ="},
		{"List", func() error { _, err := st.List(ctx, "s3://locked/"); return err },
			"ListObjectsV2 s3://locked/: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000005" + suffix + "REVOSUVEMDAwMDAwMDAwNURFTklFRDAwMDAwMDAwMDU="},
		{"PrefixNotEmpty", func() error { _, err := st.PrefixNotEmpty(ctx, "s3://locked/k"); return err },
			"ListObjectsV2 s3://locked/k: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000006" + suffix + "REVOSUVEMDAwMDAwMDAwNkRFTklFRDAwMDAwMDAwMDY="},
		{"Download", func() error { return st.Download(ctx, "s3://locked/in", filepath.Join(b.dir, "in")) },
			"ListObjectsV2 s3://locked/in/: Status Code: 403, AWS Service: Amazon S3, AWS Request ID: DENIED0000000007" + suffix + "REVOSUVEMDAwMDAwMDAwN0RFTklFRDAwMDAwMDAwMDc="},
	} {
		err := tc.call()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error\n%v\nwant\n%s", tc.name, err, tc.want)
		}
		if !errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: error is not fs.ErrPermission alone", tc.name)
		}
		var se *objstore.S3Error
		if !errors.As(err, &se) || se.StatusCode != 403 || se.RequestID != fmt.Sprintf("DENIED%010d", i+1) {
			t.Errorf("%s: errors.As(*S3Error) = %+v", tc.name, se)
		}
	}
}

// TestInvalidURIs pins the URIs culvert refuses, and that refusing
// writes nothing (docs/assumptions/0018-object-storage.md).
func TestInvalidURIs(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	ctx := t.Context()
	rel, err := filepath.Rel(mustGetwd(t), filepath.Join(b.dir, "x.txt"))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(uri string) error{
		"Get":            func(uri string) error { _, err := st.Get(ctx, uri); return err },
		"Put":            func(uri string) error { return st.Put(ctx, uri, strings.NewReader("x")) },
		"Stat":           func(uri string) error { _, err := st.Stat(ctx, uri); return err },
		"Exists":         func(uri string) error { _, err := st.Exists(ctx, uri); return err },
		"List":           func(uri string) error { _, err := st.List(ctx, uri); return err },
		"PrefixNotEmpty": func(uri string) error { _, err := st.PrefixNotEmpty(ctx, uri); return err },
		"Download from":  func(uri string) error { return st.Download(ctx, uri, b.dir) },
		"Download to":    func(uri string) error { return st.Download(ctx, "s3://"+bucket+"/in", uri) },
		"Upload from":    func(uri string) error { return st.Upload(ctx, uri, "s3://"+bucket+"/out") },
		"Upload to":      func(uri string) error { return st.Upload(ctx, b.dir, uri) },
		"DownloadFile":   func(uri string) error { return st.DownloadFile(ctx, uri, filepath.Join(b.dir, "x")) },
		"UploadFile":     func(uri string) error { return st.UploadFile(ctx, uri, "s3://"+bucket+"/x") },
	}
	for _, tc := range []struct {
		uri   string
		calls []string
		want  string
	}{
		{rel, slices.Collect(maps.Keys(calls)), "a relative path"},
		{b.dir + "/../" + filepath.Base(b.dir) + "/x.txt", slices.Collect(maps.Keys(calls)), "a path may not contain .."},
		{"ftp://host/x", slices.Collect(maps.Keys(calls)), "not ftp://"},
		{"s3:///x", slices.Collect(maps.Keys(calls)), "no bucket"},
		{"s3://" + bucket + "/dir/", []string{"Get", "Put", "Stat", "Exists", "DownloadFile"}, "names a directory, not an object"},
		{b.dir + "/", []string{"Get", "Put", "Stat", "Exists", "UploadFile"}, "names a directory, not an object"},
		{"s3://" + bucket + "/x", []string{"Download to", "Upload from", "UploadFile"}, "a local path is needed here"},
	} {
		for _, name := range tc.calls {
			err := calls[name](tc.uri)
			if !errors.Is(err, objstore.ErrInvalidURI) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%q) = %v; want ErrInvalidURI saying %q", name, tc.uri, err, tc.want)
			}
		}
	}
	// Nothing was written anywhere, relative to the working directory
	// least of all.
	if _, err := os.Stat(rel); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Put through a relative path wrote %s: %v", rel, err)
	}
	if ents, _ := os.ReadDir(b.dir); len(ents) != 0 {
		t.Errorf("%s holds %v, want nothing", b.dir, ents)
	}
	if keys := b.srv.Keys(t, bucket, ""); len(keys) != 0 {
		t.Errorf("bucket holds %q, want nothing", keys)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestList pins S3's prefix semantics on both backends: a prefix is a
// string prefix, folders are not objects, and the order is bytewise
// (docs/assumptions/0018-object-storage.md).
func TestList(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st, b := setup(t)
			root := be.root(b)
			for _, name := range []string{"in/a.csv", "in/b/c.csv", "in-x.csv", "input.csv", "other/z.csv"} {
				put(t, st, objstore.Join(root, name), name)
			}
			// A folder made in the S3 console, or an empty directory.
			if strings.HasPrefix(root, "s3://") {
				b.srv.PutObject(t, bucket, "root/in/empty/", "")
			} else if err := os.MkdirAll(filepath.Join(b.dir, "in", "empty"), 0o777); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				prefix string
				want   []string
			}{
				{"in", []string{"in-x.csv", "in/a.csv", "in/b/c.csv", "input.csv"}},
				{"in/", []string{"in/a.csv", "in/b/c.csv"}},
				{"in/b", []string{"in/b/c.csv"}},
				{"in/a.csv", []string{"in/a.csv"}},
				{"in/empty/", nil},
				{"nothing", nil},
				{"nothing/", nil},
				{"", []string{"in-x.csv", "in/a.csv", "in/b/c.csv", "input.csv", "other/z.csv"}},
			} {
				prefix := root + "/" + tc.prefix
				infos, err := st.List(t.Context(), prefix)
				if err != nil {
					t.Fatalf("List(%q): %v", prefix, err)
				}
				var got []string
				for _, info := range infos {
					name, ok := strings.CutPrefix(info.URI, root+"/")
					if !ok || info.Size != int64(len(name)) {
						t.Errorf("List(%q) has %+v, want a URI under %s/ and the size of its name", prefix, info, root)
					}
					got = append(got, name)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("List(%q) mismatch (-want +got):\n%s", prefix, diff)
				}
				ok, err := st.PrefixNotEmpty(t.Context(), prefix)
				if err != nil || ok != (len(tc.want) > 0) {
					t.Errorf("PrefixNotEmpty(%q) = %v, %v; want %v, nil", prefix, ok, err, len(tc.want) > 0)
				}
			}
		})
	}
}

// TestListManyPages lists more keys than S3 answers in one page (1000)
// and checks that PrefixNotEmpty stops at the first.
func TestListManyPages(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	const n = 2001
	var want []string
	// Keys on both sides of the prefix, to be left out.
	objects := map[string]string{"man": "", "many0": "", "z": ""}
	for i := range n {
		key := fmt.Sprintf("many/%05d", i)
		want = append(want, "s3://"+bucket+"/"+key)
		objects[key] = key
	}
	b.srv.PutObjects(t, bucket, objects)
	if got := get(t, st, want[n-1]); got != "many/02000" {
		t.Errorf("Get(%q) = %q", want[n-1], got)
	}

	before := len(b.srv.Requests())
	infos, err := st.List(t.Context(), "s3://"+bucket+"/many/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, info := range infos {
		got = append(got, info.URI)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List mismatch (-want +got):\n%s", diff)
	}
	if lists := countLists(b.srv.Requests()[before:]); lists != 3 {
		t.Errorf("List made %d ListObjectsV2 requests, want 3 pages", lists)
	}

	before = len(b.srv.Requests())
	if ok, err := st.PrefixNotEmpty(t.Context(), "s3://"+bucket+"/many/"); !ok || err != nil {
		t.Errorf("PrefixNotEmpty = %v, %v; want true, nil", ok, err)
	}
	if lists := countLists(b.srv.Requests()[before:]); lists != 1 {
		t.Errorf("PrefixNotEmpty made %d ListObjectsV2 requests, want 1", lists)
	}
}

func countLists(reqs []s3test.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "GET" && r.Query.Get("list-type") == "2" {
			n++
		}
	}
	return n
}
