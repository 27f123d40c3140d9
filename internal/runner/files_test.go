package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalPath(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uri, want string
		wantErr   bool
	}{
		{uri: "/var/log/x.txt", want: "/var/log/x.txt"},
		{uri: "out/x.txt", want: filepath.Join(wd, "out/x.txt")},
		{uri: "file:///var/log/x.txt", want: "/var/log/x.txt"},
		{uri: "FILE://localhost/var/log/x.txt", want: "/var/log/x.txt"},
		{uri: "file://otherhost/x", wantErr: true},
		{uri: "s3://bucket/key", wantErr: true},
		{uri: "", wantErr: true},
	}
	for _, tc := range tests {
		got, err := LocalPath(tc.uri)
		if tc.wantErr {
			if !errors.Is(err, ErrUnsupportedURI) {
				t.Errorf("LocalPath(%q) = %q, %v; want ErrUnsupportedURI", tc.uri, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("LocalPath(%q) = %q, %v; want %q", tc.uri, got, err, tc.want)
		}
	}
}

func TestLocalFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "f.txt")
	var fs Files = LocalFiles{}
	for _, content := range []string{"first", "second"} {
		if err := fs.Put(ctx, path, strings.NewReader(content)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		rc, err := fs.Get(ctx, "file://"+path)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != content {
			t.Errorf("Get after Put(%q) = %q", content, b)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the file alone (no temporary files left)", len(entries))
	}
	if _, err := fs.Get(ctx, filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Get(missing) = %v, want os.ErrNotExist", err)
	}
	if err := fs.Put(ctx, "s3://bucket/k", strings.NewReader("x")); !errors.Is(err, ErrUnsupportedURI) {
		t.Errorf("Put(s3://…) = %v, want ErrUnsupportedURI", err)
	}
}
