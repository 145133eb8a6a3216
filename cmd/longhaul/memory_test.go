package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// maxVerifyRSS is the peak resident memory allowed for fsck --verify of a 1 GiB blob.
const maxVerifyRSS = 64 << 20

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fsck --verify streams: verifying a workflow's 1 GiB blob keeps the process's peak RSS
// (VmHWM) under 64 MiB.
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
	key, _ := driver.Key(ns, driver.SHA256, sum)
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
	base, _ := peakRSS(t, binary(t), "fsck", "--store", "file://"+dir, "--namespace", ns, "--address", dev.Address, "--query", "WorkflowId = 'big'")
	rss, out := peakRSS(t, binary(t), "fsck", "--store", "file://"+dir, "--namespace", ns, "--address", dev.Address,
		"--query", "WorkflowId = 'big'", "--verify")
	t.Logf("fsck --verify of a 1 GiB blob: peak RSS %.1f MiB (without --verify: %.1f MiB)\n%s",
		float64(rss)/(1<<20), float64(base)/(1<<20), out)
	if rss >= maxVerifyRSS {
		t.Errorf("peak RSS %d bytes, want under %d", rss, maxVerifyRSS)
	}
}

// peakRSS runs the built command and returns its peak resident set, VmHWM from
// /proc/PID/status read while it runs (the high-water mark only grows; the last reading
// before exit is kept), and its output. getrusage of the child is no use here: Go starts
// children with vfork, and Linux carries the parent's RSS high-water mark into the
// child's ru_maxrss at exec.
func peakRSS(t *testing.T, bin string, args ...string) (int64, []byte) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("longhaul %v: %v\n%s", args, err, out.String())
			}
			if peak == 0 {
				t.Fatal("no VmHWM reading before the process ended")
			}
			return peak, out.Bytes()
		case <-time.After(2 * time.Millisecond):
			peak = max(peak, vmHWM(cmd.Process.Pid))
		}
	}
}

// vmHWM reads a process's peak RSS in bytes; 0 once it is gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib << 10
		}
	}
	return 0
}
