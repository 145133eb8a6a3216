package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// publicRoots are the directories (recursively) whose exported API must be documented.
var publicRoots = []string{"codec", "payloadsvc", "interceptor"}

func TestExportedIdentifiersHaveDocComments(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	dirs := 0
	for _, r := range publicRoots {
		err := filepath.WalkDir(filepath.Join(root, r), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if name := d.Name(); name == "testdata" || name == "internal" || strings.HasPrefix(name, ".") || name == "node_modules" {
				return filepath.SkipDir
			}
			dirs++
			missing = append(missing, undocumented(t, root, path)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if dirs < len(publicRoots) {
		t.Fatalf("walked %d directories, want at least %d", dirs, len(publicRoots))
	}
	for _, m := range missing {
		t.Errorf("missing doc comment: %s", m)
	}
}

// undocumented lists exported declarations without a doc comment in one directory's
// non-test, non-main Go files.
func undocumented(t *testing.T, root, dir string) []string {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatalf("parse %s: %v", dir, err)
	}
	var out []string
	where := func(pos token.Pos, what string) {
		p := fset.Position(pos)
		rel, _ := filepath.Rel(root, p.Filename)
		out = append(out, rel+":"+strconv.Itoa(p.Line)+": "+what)
	}
	for name, pkg := range pkgs {
		if name == "main" {
			continue
		}
		hasPkgDoc := false
		for _, f := range pkg.Files {
			if f.Doc != nil {
				hasPkgDoc = true
			}
		}
		if !hasPkgDoc {
			out = append(out, dir+": package "+name+" has no package doc comment")
		}
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() || d.Doc != nil {
						continue
					}
					if d.Recv != nil && !exportedRecv(d.Recv) {
						continue
					}
					where(d.Pos(), "func "+d.Name.Name)
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
								where(s.Pos(), "type "+s.Name.Name)
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								// In a documented const/var block, a group comment covers its members.
								if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
									where(n.Pos(), "value "+n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	typ := fl.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if g, ok := typ.(*ast.IndexExpr); ok {
		typ = g.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}
