package objstore

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri  string
		want location
		back string // String(), when it differs from uri
	}{
		{uri: "s3://bucket/key.csv", want: location{s3: true, bucket: "bucket", key: "key.csv"}},
		{uri: "s3://bucket/my file%20.csv", want: location{s3: true, bucket: "bucket", key: "my file%20.csv"}},
		{uri: "s3://bucket/a/../b", want: location{s3: true, bucket: "bucket", key: "a/../b"}},
		{uri: "s3://bucket/dir/", want: location{s3: true, bucket: "bucket", key: "dir/", dir: true}},
		{uri: "s3://bucket", want: location{s3: true, bucket: "bucket", dir: true}, back: "s3://bucket/"},
		{uri: "S3://bucket/k", want: location{s3: true, bucket: "bucket", key: "k"}, back: "s3://bucket/k"},
		{uri: "/data/in.csv", want: location{key: "/data/in.csv"}},
		{uri: "/data//./in.csv", want: location{key: "/data/in.csv"}, back: "/data/in.csv"},
		{uri: "/data/dir/", want: location{key: "/data/dir", dir: true}},
		{uri: "/", want: location{key: "/", dir: true}},
		{uri: "/data/a..b", want: location{key: "/data/a..b"}},
		{uri: "file:///data/in.csv", want: location{key: "/data/in.csv", file: true}},
		{uri: "file:///data/my%20file", want: location{key: "/data/my%20file", file: true}},
		{uri: "file://localhost/data/in.csv", want: location{key: "/data/in.csv", file: true}, back: "file:///data/in.csv"},
		{uri: "FILE:///data/in.csv", want: location{key: "/data/in.csv", file: true}, back: "file:///data/in.csv"},
	} {
		got, err := parse(tc.uri)
		if err != nil {
			t.Errorf("parse(%q): %v", tc.uri, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(location{})); diff != "" {
			t.Errorf("parse(%q) mismatch (-want +got):\n%s", tc.uri, diff)
		}
		back := tc.back
		if back == "" {
			back = tc.uri
		}
		if s := got.String(); s != back {
			t.Errorf("parse(%q).String() = %q, want %q", tc.uri, s, back)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri, want string
	}{
		{"", `invalid URI: empty; use s3://bucket/key, an absolute path or file:///absolute/path`},
		{"data/in.csv", `invalid URI "data/in.csv": a relative path; use an absolute path, file:///absolute/path or s3://bucket/key`},
		{"./in.csv", `invalid URI "./in.csv": a relative path; use an absolute path, file:///absolute/path or s3://bucket/key`},
		{"~/in.csv", `invalid URI "~/in.csv": a relative path; use an absolute path, file:///absolute/path or s3://bucket/key`},
		{"/data/../etc/passwd", `invalid URI "/data/../etc/passwd": a path may not contain ..`},
		{"/data/..", `invalid URI "/data/..": a path may not contain ..`},
		{"file:///data/../x", `invalid URI "file:///data/../x": a path may not contain ..`},
		{"file://data/in.csv", `invalid URI "file://data/in.csv": a file URI names an absolute path on this machine, as in file:///data/in.csv`},
		{"file://host/data/in.csv", `invalid URI "file://host/data/in.csv": a file URI names an absolute path on this machine, as in file:///data/in.csv`},
		{"s3:///key", `invalid URI "s3:///key": no bucket; use s3://bucket/key`},
		{"s3://", `invalid URI "s3://": no bucket; use s3://bucket/key`},
		{"hdfs://nn/data", `invalid URI "hdfs://nn/data": culvert reads and writes s3:// URIs and local paths, not hdfs://`},
		{"s3n://bucket/key", `invalid URI "s3n://bucket/key": culvert reads and writes s3:// URIs and local paths, not s3n://`},
	} {
		_, err := parse(tc.uri)
		if !errors.Is(err, ErrInvalidURI) {
			t.Errorf("parse(%q) = %v, want an error wrapping ErrInvalidURI", tc.uri, err)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("parse(%q) = %q, want %q", tc.uri, err, tc.want)
		}
	}
}

func TestLocalName(t *testing.T) {
	t.Parallel()
	for rel, want := range map[string]bool{
		"a.csv": true, "d1/d2/a.csv": true, "a..b": true, "..a": true,
		"": false, "..": false, "d/../a": false, "./a": false, "d//a": false, "d/": false, "/a": false,
	} {
		if got := localName(rel); got != want {
			t.Errorf("localName(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri  string
		elem []string
		want string
	}{
		{"s3://logs/culvert", []string{"df-0123", "Work", "@Work_2026-01-02T03:00:00", "@Work_2026-01-02T03:00:00_Attempt=1"},
			"s3://logs/culvert/df-0123/Work/@Work_2026-01-02T03:00:00/@Work_2026-01-02T03:00:00_Attempt=1"},
		{"s3://logs/", []string{"/df-1/", "x"}, "s3://logs/df-1/x"},
		{"s3://logs", []string{"df-1"}, "s3://logs/df-1"},
		{"/var/log/culvert", []string{"df-1", "", "stdout"}, "/var/log/culvert/df-1/stdout"},
		{"/", []string{"df-1"}, "/df-1"},
		{"file:///var/log/", []string{"df-1"}, "file:///var/log/df-1"},
	} {
		if got := Join(tc.uri, tc.elem...); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.uri, tc.elem, got, tc.want)
		}
	}
}
