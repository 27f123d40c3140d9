package runner

import (
	"context"
	"testing"
)

func TestDirURIAndBaseName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, dir, base string }{
		{in: "s3://b/in", dir: "s3://b/in/", base: "in"},
		{in: "s3://b/in/", dir: "s3://b/in/", base: "in"},
		{in: "s3://b/in/x.csv", dir: "s3://b/in/x.csv/", base: "x.csv"},
		{in: "/data/x.csv", dir: "/data/x.csv/", base: "x.csv"},
	} {
		if got := dirURI(tc.in); got != tc.dir {
			t.Errorf("dirURI(%q) = %q, want %q", tc.in, got, tc.dir)
		}
		if got := baseName(tc.in); got != tc.base {
			t.Errorf("baseName(%q) = %q, want %q", tc.in, got, tc.base)
		}
	}
}

// TestReadManifest reads Redshift's manifest format, which an
// S3DataNode's manifestFilePath names.
func TestReadManifest(t *testing.T) {
	t.Parallel()
	job, srv := newS3Job(t, shellTask("CopyActivity", nil))
	ctx := context.Background()
	srv.PutObject(t, "bucket", "good.manifest", `{"entries": [{"url": "s3://bucket/a", "mandatory": true}, {"url": "s3://bucket/b"}], "meta": 1}`)
	srv.PutObject(t, "bucket", "no-url.manifest", `{"entries": [{"mandatory": true}]}`)
	srv.PutObject(t, "bucket", "not-json.manifest", `entries: a, b`)
	got, err := readManifest(ctx, job.Files, "s3://bucket/good.manifest")
	if err != nil || len(got) != 2 || got[0] != (inputObject{uri: "s3://bucket/a"}) || got[1] != (inputObject{uri: "s3://bucket/b", optional: true}) {
		t.Errorf("readManifest(good) = %+v, %v", got, err)
	}
	for _, name := range []string{"no-url.manifest", "not-json.manifest", "missing.manifest"} {
		if _, err := readManifest(ctx, job.Files, "s3://bucket/"+name); err == nil {
			t.Errorf("readManifest(%s) = nil error", name)
		}
	}
	if err := writeManifest(ctx, job.Files, "s3://bucket/out.manifest", []string{"s3://bucket/x"}); err != nil {
		t.Fatal(err)
	}
	if got, err := readManifest(ctx, job.Files, "s3://bucket/out.manifest"); err != nil || len(got) != 1 || got[0] != (inputObject{uri: "s3://bucket/x"}) {
		t.Errorf("readManifest(written) = %+v, %v; want the one mandatory entry", got, err)
	}
}
