package objstore_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/objstore"
)

// TestOpenInListIn reads a directory's files by relative name, on every
// backend, and never anything beside it.
func TestOpenInListIn(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st, b := setup(t)
			root := be.root(b)
			dir := objstore.Join(root, "attempt")
			for _, name := range []string{"stdout.log", "stderr.log", "sub/x.txt"} {
				put(t, st, objstore.Join(dir, name), "content of "+name)
			}
			// Beside the directory, sharing its name as a prefix.
			put(t, st, root+"/attempt-2/stdout.log", "not mine")
			put(t, st, root+"/attempt.txt", "not mine")

			entries, err := st.ListIn(t.Context(), dir)
			if err != nil {
				t.Fatalf("ListIn(%q): %v", dir, err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name)
				if e.Size != int64(len("content of "+e.Name)) || e.ModTime.IsZero() {
					t.Errorf("ListIn(%q) entry %+v: want the size of its content and a time", dir, e)
				}
			}
			if diff := cmp.Diff([]string{"stderr.log", "stdout.log", "sub/x.txt"}, names); diff != "" {
				t.Errorf("ListIn(%q) mismatch (-want +got):\n%s", dir, diff)
			}
			// A trailing slash names the same directory.
			if again, err := st.ListIn(t.Context(), dir+"/"); err != nil || len(again) != len(entries) {
				t.Errorf("ListIn(%q/) = %v, %v; want the same %d entries", dir, again, err, len(entries))
			}
			for _, name := range names {
				r, size, err := st.OpenIn(t.Context(), dir, name)
				if err != nil {
					t.Fatalf("OpenIn(%q, %q): %v", dir, name, err)
				}
				body, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(body) != "content of "+name || size != int64(len(body)) {
					t.Errorf("OpenIn(%q, %q) = %q (size %d), %v; want %q", dir, name, body, size, err, "content of "+name)
				}
			}
			if _, _, err := st.OpenIn(t.Context(), dir, "missing.log"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("OpenIn(missing.log) error = %v, want fs.ErrNotExist", err)
			}
			if _, _, err := st.OpenIn(t.Context(), dir, "sub"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("OpenIn(sub), a directory, error = %v, want fs.ErrNotExist", err)
			}
			for _, name := range []string{"../attempt-2/stdout.log", "/attempt.txt", "sub/../../attempt.txt"} {
				if _, _, err := st.OpenIn(t.Context(), dir, name); !errors.Is(err, objstore.ErrInvalidURI) {
					t.Errorf("OpenIn(%q) error = %v, want ErrInvalidURI", name, err)
				}
			}
		})
	}
}

// TestListInMissing checks that a local directory that is not there is an
// error, not an empty directory, while an S3 prefix with nothing under it
// is simply empty.
func TestListInMissing(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	for _, dir := range []string{filepath.Join(b.dir, "nowhere"), "file://" + filepath.Join(b.dir, "nowhere")} {
		if got, err := st.ListIn(t.Context(), dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ListIn(%q) = %v, %v; want fs.ErrNotExist", dir, got, err)
		}
	}
	if got, err := st.ListIn(t.Context(), "s3://"+bucket+"/nowhere"); err != nil || len(got) != 0 {
		t.Errorf("ListIn(s3 prefix with nothing) = %v, %v; want empty, nil", got, err)
	}
}

// TestOpenInLinks checks that links inside a local directory are followed
// while they stay inside it, and refused when they lead out.
func TestOpenInLinks(t *testing.T) {
	t.Parallel()
	st, b := setup(t)
	dir := filepath.Join(b.dir, "attempt")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(b.dir, "secret")
	for name, content := range map[string]string{secret: "secret", filepath.Join(dir, "stdout.log"): "out"} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"out":       secret,         // absolute, outside
		"up":        "..",           // a directory outside
		"sub/climb": "../../secret", // relative, outside
		"in":        "stdout.log",   // inside
		"sub/back":  "../stdout.log",
		"dangling":  "nowhere",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"out", "up/secret", "sub/climb"} {
		_, _, err := st.OpenIn(t.Context(), dir, name)
		if !errors.Is(err, objstore.ErrOutside) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("OpenIn(%q) error = %v, want ErrOutside and fs.ErrPermission", name, err)
		}
	}
	for _, name := range []string{"in", "sub/back"} {
		r, _, err := st.OpenIn(t.Context(), dir, name)
		if err != nil {
			t.Errorf("OpenIn(%q) = %v, want the link inside followed", name, err)
			continue
		}
		body, _ := io.ReadAll(r)
		r.Close()
		if string(body) != "out" {
			t.Errorf("OpenIn(%q) = %q, want %q", name, body, "out")
		}
	}
	if _, _, err := st.OpenIn(t.Context(), dir, "dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenIn(dangling) error = %v, want fs.ErrNotExist", err)
	}
	entries, err := st.ListIn(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"in", "stdout.log", "sub/back"}, names); diff != "" {
		t.Errorf("ListIn() with links mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckRelName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"stdout", "stdout.log", "sub/x.txt", "a..b", "...", "@A_2026-01-01T00:00:00", "with space"} {
		if err := objstore.CheckRelName(name); err != nil {
			t.Errorf("CheckRelName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a//b", "a/", `a\b`, "a\x00b", "a\nb"} {
		if err := objstore.CheckRelName(name); !errors.Is(err, objstore.ErrInvalidURI) || !strings.Contains(err.Error(), "name") {
			t.Errorf("CheckRelName(%q) = %v, want ErrInvalidURI", name, err)
		}
	}
}
