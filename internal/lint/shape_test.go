package lint

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Limits on the shape of non-test code: a longer line or function is a sign to split it.
const (
	maxLineChars = 140
	maxFuncLines = 60
	// maxCodecNames bounds codec's package-level exported names: what a worker author
	// needs, with the driver contract, foreign readers and operators' tools elsewhere.
	maxCodecNames = 45
)

// sources returns the repository's non-test Go files, relative to root.
func sources(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found %d source files under %s, want the whole module", len(out), root)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestNoLongLines(t *testing.T) {
	root := moduleRoot(t)
	for _, rel := range sources(t, root) {
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			if c := utf8.RuneCount(sc.Bytes()); c > maxLineChars {
				t.Errorf("%s:%d: %d characters, over %d", rel, n, c, maxLineChars)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
	}
}

func TestNoLongFunctions(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	for _, rel := range sources(t, root) {
		if strings.HasPrefix(rel, "examples"+string(filepath.Separator)) {
			continue // an example reads top to bottom, as a user's main would
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			d, ok := n.(*ast.FuncDecl)
			if !ok || d.Body == nil {
				return true
			}
			if lines := fset.Position(d.End()).Line - fset.Position(d.Pos()).Line + 1; lines > maxFuncLines {
				t.Errorf("%s:%d: func %s is %d lines, over %d", rel, fset.Position(d.Pos()).Line, d.Name.Name, lines, maxFuncLines)
			}
			return false
		})
	}
}

func TestCodecExportsWhatAWorkerNeeds(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), "codec")
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range pkgs["codec"].Files {
		for _, decl := range f.Decls {
			names = append(names, exportedNames(decl)...)
		}
	}
	if len(names) == 0 || len(names) > maxCodecNames {
		t.Errorf("codec exports %d package-level names, want 1..%d: %v", len(names), maxCodecNames, names)
	}
}

// exportedNames lists the package-level exported names a declaration adds (methods not).
func exportedNames(decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil && d.Name.IsExported() {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() {
					out = append(out, s.Name.Name)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out
}
