// Package testenv starts the real servers longhaul is tested against — the Temporal dev
// server (from the pinned Temporal CLI) and versitygw (an S3 server) — on random loopback
// ports, waits for them to be ready, and stops them when the test ends.
//
// The binaries come from the tool cache that `make tools` fills. When a binary is missing
// the test is skipped with a hint, except when CI=true: there a missing tool fails the test,
// so CI can never pass by skipping the integration tests.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Pinned tool versions. The Makefile installs exactly these; keep both in sync.
const (
	TemporalCLIVersion = "v1.5.1"
	VersityGWVersion   = "v1.8.0"
)

// ToolsDir is where `make tools` caches binaries: $LONGHAUL_TOOLS_DIR, else
// $XDG_CACHE_HOME/longhaul/tools, else ~/.cache/longhaul/tools.
func ToolsDir() string {
	if d := os.Getenv("LONGHAUL_TOOLS_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "longhaul", "tools")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "longhaul-tools")
	}
	return filepath.Join(home, ".cache", "longhaul", "tools")
}

// InCI reports whether CI=true, where a missing tool is a failure, not a skip.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// ToolPath finds a pinned tool: $envVar if set, else the tool cache, else $PATH.
func ToolPath(name, version, envVar string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testenv: %s=%s: %w", envVar, p, err)
		}
		return p, nil
	}
	p := filepath.Join(ToolsDir(), name+"-"+version, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("testenv: %s %s not found in %s or $PATH (run `make tools`)", name, version, ToolsDir())
}

// binOr returns bin, or the path find gives when bin is empty: how every Start function
// reads its options' Bin.
func binOr(bin string, find func() (string, error)) (string, error) {
	if bin != "" {
		return bin, nil
	}
	return find()
}

// toolFinder returns a find for binOr: ToolPath of the pinned tool.
func toolFinder(name, version, envVar string) func() (string, error) {
	return func() (string, error) { return ToolPath(name, version, envVar) }
}

// RequireTool returns the tool's path, or skips the test (fails it when CI=true).
func RequireTool(t testing.TB, name, version, envVar string) string {
	t.Helper()
	p, err := ToolPath(name, version, envVar)
	Require(t, err)
	return p
}

// Require is the one place a test gives up for a missing tool: with CI=true it fails,
// so CI can never pass by skipping; elsewhere it skips with err, which should say how to
// install the tool. A nil err does nothing.
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("%v; CI=true, so a missing tool is a failure", err)
	}
	t.Skipf("%v", err)
}

// TemporalBin returns the pinned Temporal CLI, or skips/fails as RequireTool does.
func TemporalBin(t testing.TB) string {
	t.Helper()
	return RequireTool(t, "temporal", TemporalCLIVersion, "LONGHAUL_TEMPORAL")
}

// VersityBin returns the pinned versitygw binary, or skips/fails as RequireTool does.
func VersityBin(t testing.TB) string {
	t.Helper()
	return RequireTool(t, "versitygw", VersityGWVersion, "LONGHAUL_VERSITYGW")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: free port: %w", err)
	}
	defer l.Close()
	// Leave the port in TIME_WAIT on our side (the server closes first), so the kernel
	// does not hand it to another bind(:0) for a while; an explicit bind still works
	// because Go sets SO_REUSEADDR. The Temporal CLI picks its own ports the same way.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("testenv: free port: %w", err)
	}
	defer c.Close()
	sc, err := l.Accept()
	if err != nil {
		return 0, fmt.Errorf("testenv: free port: %w", err)
	}
	sc.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
