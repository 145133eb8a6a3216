// Package depcheck proves in a test what a package does not link: it asks `go list
// -deps` (the build's own answer, test files aside) and fails on a banned import path.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// Forbid fails t if pkg (an import path) depends, directly or not, on a banned package.
// A banned entry ending in "/" bans every path under it ("github.com/aws/"); any other
// entry bans that one package only, so banning ".../codec" leaves ".../codec/driver".
func Forbid(t testing.TB, pkg string, banned ...string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) {
				t.Errorf("%s depends on %s (banned: %s)", pkg, dep, b)
			}
		}
	}
}
