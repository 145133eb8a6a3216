package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// maxVerifyRSS is the peak resident memory allowed for fsck --verify of a 1 GiB blob.
const maxVerifyRSS = 64 << 20

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fsck --verify streams: verifying a workflow's 1 GiB blob keeps the process's peak RSS
// (getrusage of the child: ru_maxrss) under 64 MiB.
func TestFsckVerifyMemory(t *testing.T) {
	const ns, size = "ops-fsck-big", 1 << 30
	dev := testenv.SharedTemporal(t)
	registerNamespace(t, dev.Client(t, client.Options{}), ns, 24*time.Hour)
	dir := t.TempDir()
	fs, err := filestore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, zeros{}, size); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	key, _ := codec.BlobKey(ns, sum)
	path, _ := fs.Path(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path) // sparse: 1 GiB of zeros that takes no disk
	if err == nil {
		err = f.Truncate(size)
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.Reference{V: 1, SHA256: sum, Size: size, RawSize: size, Compression: "none", Encoding: "binary/plain"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	c := dev.Client(t, client.Options{Namespace: ns})
	ctx := testenv.Context(t, time.Minute)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "big", TaskQueue: "nobody"}, "Big",
		converter.NewRawValue(ref)); err != nil {
		t.Fatal(err)
	}
	base, _ := peakRSS(t, "fsck", "--store", "file://"+dir, "--namespace", ns, "--address", dev.Address, "--query", "WorkflowId = 'big'")
	rss, out := peakRSS(t, "fsck", "--store", "file://"+dir, "--namespace", ns, "--address", dev.Address,
		"--query", "WorkflowId = 'big'", "--verify")
	t.Logf("fsck --verify of a 1 GiB blob: peak RSS %.1f MiB (without --verify: %.1f MiB)\n%s",
		float64(rss)/(1<<20), float64(base)/(1<<20), out)
	if rss >= maxVerifyRSS {
		t.Errorf("peak RSS %d bytes, want under %d", rss, maxVerifyRSS)
	}
}

// peakRSS runs the built command and returns its peak resident set (getrusage of the
// child: ru_maxrss) and its output.
func peakRSS(t *testing.T, args ...string) (int64, []byte) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("longhaul %v: %v\n%s", args, err, out)
	}
	return int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10, out // KiB on Linux
}
