package readme

import (
	"os"
	"strings"
	"testing"
)

// TestREADMESnippet: the README's "Use it in your worker" block is exactly the code of
// runWorker (which compiles), and stays under 25 lines.
func TestREADMESnippet(t *testing.T) {
	src, err := os.ReadFile("worker.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	begin := strings.Index(s, "// BEGIN README\n")
	end := strings.Index(s, "\t// END README")
	if begin < 0 || end < 0 {
		t.Fatal("worker.go lacks the BEGIN/END README markers")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s[begin+len("// BEGIN README\n"):end], "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	snippet := strings.Join(lines, "\n")
	if n := len(lines); n >= 25 {
		t.Errorf("the snippet is %d lines; the README promises under 25", n)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), snippet) {
		t.Fatalf("README.md does not contain the snippet of worker.go verbatim:\n%s", snippet)
	}
	_ = runWorker // compiled, not run: it needs AWS and a Temporal server
}
