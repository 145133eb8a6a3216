package testenv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestDevServerRetriesPortCollision: the CLI binds ports for its internal services that it
// picked itself, so another process can take one first; the server then logs the bind
// error and panics. StartDevServer must start again on new ports, as CI once needed.
func TestDevServerRetriesPortCollision(t *testing.T) {
	real := testenv.TemporalBin(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "failed-once")
	wrapper := filepath.Join(dir, "temporal")
	script := "#!/bin/sh\n" +
		"if [ ! -e " + marker + " ]; then\n" +
		"  touch " + marker + "\n" +
		"  echo 'time=x level=ERROR msg=\"Failed to start gRPC listener\" error=\"listen tcp 127.0.0.1:1: bind: address already in use\"'\n" +
		"  echo 'panic: runtime error: invalid memory address or nil pointer dereference'\n" +
		longStack +
		"  exit 2\n" +
		"fi\n" +
		"exec " + real + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := testenv.Temporal(t, testenv.DevServerOptions{Bin: wrapper, Dir: filepath.Join(dir, "srv")})
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the first start did not run: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := srv.Dial(ctx, client.Options{})
	if err != nil {
		t.Fatalf("dial after retried start: %v", err)
	}
	c.Close()
}

// TestDevServerStartupErrorNamesCause: a start that fails for another reason (an error,
// no bind conflict, no panic) is not retried, and the error carries the logged cause even
// when a long output follows it.
func TestDevServerStartupErrorNamesCause(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "temporal")
	count := filepath.Join(dir, "starts")
	script := "#!/bin/sh\n" +
		"echo start >> " + count + "\n" +
		"echo 'time=x level=ERROR msg=\"unable to open database file: disk on fire\"'\n" +
		longStack +
		"exit 1\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := testenv.StartDevServer(context.Background(), testenv.DevServerOptions{Bin: wrapper, Dir: filepath.Join(dir, "srv")})
	if err == nil {
		t.Fatal("start succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("error does not name the logged cause:\n%v", err)
	}
	b, _ := os.ReadFile(count)
	if n := strings.Count(string(b), "start"); n != 1 {
		t.Fatalf("started %d times, want 1 (not a port collision: no retry)", n)
	}
}

// longStack prints a panic's worth of frames: more than the log tail an error carries.
const longStack = "i=0; while [ $i -lt 400 ]; do echo \"\tgo.uber.org/dig.paramList.BuildList(...) frame $i\"; i=$((i+1)); done\n"
