package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	if os.Getenv(hangEnv) != "" {
		hangUpload() // the child of a sweep test: a worker killed mid-upload
	}
	code := m.Run()
	testenv.StopShared()
	if bin.dir != "" {
		os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// binary builds the command once per test binary.
func binary(t testing.TB) string {
	t.Helper()
	bin.once.Do(func() {
		if bin.dir, bin.err = os.MkdirTemp("", "longhaul-cmd-"); bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "longhaul")
		out, err := exec.Command("go", "build", "-o", bin.path, ".").CombinedOutput()
		if err != nil {
			bin.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// result is one run of the built command.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the built command with env added to a clean environment.
func runCLI(t testing.TB, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run longhaul %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}
