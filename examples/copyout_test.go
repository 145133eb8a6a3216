// Package examples_test checks what a user does with an example: copy it out of this
// repository into a module of their own and build it.
package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyOut copies each example's program (its .go files without the tests, which use
// this repository's internal test environment) into a module of its own that requires
// this one through a replace directive pointing at this checkout, then runs
// `go mod tidy` and `go build` there. Go refuses a module's internal packages to other
// modules, so an example that imports one fails here, as does one that needs anything
// this module does not provide.
//
// The new module starts from this module's requirements and checksums (tidy drops what
// the example does not use): the versions longhaul is tested with, already in the module
// and build caches, which this test shares, so it stays fast and needs no checksum
// database. A user who starts from an empty go.mod gets the newest versions instead.
func TestCopyOut(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/seed-a62fcf0e/longhaul"
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	requires, ok := bytes.CutPrefix(gomod, []byte("module "+module+"\n"))
	if !ok {
		t.Fatalf("%s/go.mod is not module %s", root, module)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, e := range entries {
		if e.IsDir() && len(programFiles(t, e.Name())) > 0 {
			examples = append(examples, e.Name())
		}
	}
	if len(examples) < 5 {
		t.Fatalf("found examples %q, want at least 5", examples)
	}
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // mostly linking: single-threaded, so two at once use two cores
			dir := t.TempDir()
			for _, f := range programFiles(t, name) {
				src, err := os.ReadFile(filepath.Join(name, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mod := "module example.com/" + name + "\n" + string(requires) +
				"\nrequire " + module + " v0.0.0-00010101000000-000000000000\n" +
				"\nreplace " + module + " => " + root + "\n"
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644); err != nil {
				t.Fatal(err)
			}
			goCmd(t, dir, "mod", "tidy")
			goCmd(t, dir, "build", "-o", os.DevNull, ".")
		})
	}
}

// programFiles lists the .go files of an example's program, without its tests.
func programFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			out = append(out, n)
		}
	}
	return out
}

// goCmd runs the go command in dir, as a user outside this module would: no workspace,
// module mode that may update go.mod.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in a copy of the example: %v\n%s", strings.Join(args, " "), err, out)
	}
}
