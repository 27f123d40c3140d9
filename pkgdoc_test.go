package culvert_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs requires a package comment on every package, because the
// comment is where a package says what it is for and what it must not
// import.
func TestPackageDocs(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		// Package name → whether some file of it carries the package comment.
		documented := map[string]bool{}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(path, name), nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				return err
			}
			pkg := f.Name.Name
			doc := ""
			if f.Doc != nil {
				doc = f.Doc.Text()
			}
			documented[pkg] = documented[pkg] || strings.HasPrefix(doc, "Package "+pkg+" ") ||
				pkg == "main" && strings.HasPrefix(doc, "Command ")
		}
		for pkg, ok := range documented {
			if !ok {
				t.Errorf("package %s in %s has no package comment starting %q", pkg, path, "Package "+pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
