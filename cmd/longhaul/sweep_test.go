package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// The killed worker's upload: 200 MiB, of which the source gives hangAfter bytes and
// then blocks, so the parts read so far are uploaded and the rest never comes.
const (
	killedUploadSize = 200 << 20
	hangAfter        = 48 << 20
	hangEnv          = "LONGHAUL_TEST_HANG_UPLOAD"
)

// hangingSource gives hangAfter zero bytes, then blocks forever.
type hangingSource struct{ n int64 }

func (h *hangingSource) Read(p []byte) (int, error) {
	if h.n >= hangAfter {
		select {}
	}
	n := int(min(int64(len(p)), hangAfter-h.n))
	clear(p[:n])
	h.n += int64(n)
	return n, nil
}

// hangUpload is the worker killed mid-upload: run by the test binary itself when
// hangEnv names a store URL, it puts a 200 MiB blob that never finishes.
func hangUpload() {
	ctx := context.Background()
	store, err := storeopen.Open(ctx, os.Getenv(hangEnv))
	if err == nil {
		_, err = store.Put(ctx, os.Getenv(hangEnv+"_KEY"), &hangingSource{}, killedUploadSize)
	}
	os.Stderr.WriteString("upload ended: " + errString(err) + "\n")
	os.Exit(1)
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// randomKey returns 20 MiB of random bytes and their key under algorithm's key version.
func randomKey(t *testing.T, algorithm string) (string, []byte) {
	b := make([]byte, 20<<20) // over the part size: committed as parts, composed or blocks
	_, _ = rand.Read(b)
	h, err := contenthash.New(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(b)
	key, err := driver.Key("ops-sweep", algorithm, contenthash.Hex(h))
	if err != nil {
		t.Fatal(err)
	}
	return key, b
}

// sweepCase is one store kind: its URL, the environment that reaches it, and a count of
// the debris the killed upload left, read with the emulator's own API.
type sweepCase struct {
	url    string
	env    []string
	debris func(ctx context.Context, t *testing.T, objectName string) int
	name   func(key string) string
}

// testSweep kills a worker mid 200 MiB upload under each key version (v1/ SHA-256, v2/
// BLAKE3) and sweeps: --dry-run and a younger cut-off change nothing, the sweep frees
// exactly the debris of both, and committed blobs under the same prefixes are untouched.
func testSweep(t *testing.T, sc sweepCase) {
	for _, kv := range sc.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := testenv.Context(t, 3*time.Minute)
	store, err := storeopen.Open(ctx, sc.url)
	if err != nil {
		t.Fatal(err)
	}
	algorithms := []string{driver.SHA256, driver.BLAKE3}
	committed := map[string][]byte{}
	var killed []string
	for _, alg := range algorithms {
		key, b := randomKey(t, alg)
		if _, err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		committed[key] = b
		key, _ = randomKey(t, alg)
		killUploadMidway(t, ctx, sc, key)
		killed = append(killed, key)
	}
	debris := func() int { return sc.debrisOf(ctx, t, killed) }
	n := debris()

	dry := sweepJSON(t, sc, exitProblems, "--older-than", "0s", "--dry-run")
	if len(dry.Found) == 0 || dry.FreedCount() != 0 || debris() != n {
		t.Fatalf("--dry-run: found %d, freed %d; debris %d -> %d", len(dry.Found), dry.FreedCount(), n, debris())
	}
	sc.checkFound(t, dry, killed)
	young := sweepJSON(t, sc, exitOK, "--older-than", "1h")
	if len(young.Found) != 0 || young.Younger == 0 || debris() != n {
		t.Fatalf("--older-than 1h: found %d, younger %d", len(young.Found), young.Younger)
	}
	text := runCLI(t, sc.env, "sweep", "uploads", "--store", sc.url, "--older-than", "0s")
	t.Logf("sweep output:\n%s", text.stdout)
	if text.code != exitOK || !strings.Contains(text.stdout, "freed") || debris() != 0 {
		t.Fatalf("sweep: exit %d, debris left %d\n%s%s", text.code, debris(), text.stdout, text.stderr)
	}
	for _, d := range dry.Found {
		if !strings.Contains(text.stdout, "freed "+d.Kind+" "+d.Name) {
			t.Errorf("sweep output does not say it freed %s %s", d.Kind, d.Name)
		}
	}
	for key, b := range committed {
		checkBlob(t, ctx, store, key, b)
	}
}

// debrisOf counts the debris the killed uploads of keys left (once per name: GCS parts
// share one directory).
func (sc sweepCase) debrisOf(ctx context.Context, t *testing.T, keys []string) int {
	names := map[string]bool{}
	n := 0
	for _, key := range keys {
		if name := sc.name(key); !names[name] {
			names[name] = true
			n += sc.debris(ctx, t, name)
		}
	}
	return n
}

// checkFound checks that a sweep found debris of every killed upload, under v1/ and v2/
// alike.
func (sc sweepCase) checkFound(t *testing.T, rep sweep.Report, keys []string) {
	t.Helper()
	for _, key := range keys {
		found := false
		for _, d := range rep.Found {
			found = found || strings.HasPrefix(d.Name, sc.name(key))
		}
		if !found {
			t.Errorf("sweep found no debris of the upload of %s: %+v", key, rep.Found)
		}
	}
}

// checkBlob checks that a committed blob still reads back whole after the sweep.
func checkBlob(t *testing.T, ctx context.Context, store driver.Store, key string, want []byte) {
	t.Helper()
	rc, err := store.Get(ctx, key)
	if err != nil {
		t.Fatalf("committed blob %s after the sweep: %v", key, err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("committed blob %s changed by the sweep (%v)", key, err)
	}
}

// killUploadMidway runs the upload in a child process and kills it (SIGKILL) once the
// store holds every part the source gave (three parts of the default 16 MiB): then
// nothing is in flight and the debris stays as the kill left it.
func killUploadMidway(t *testing.T, ctx context.Context, sc sweepCase, key string) {
	before := sc.debris(ctx, t, sc.name(key)) // GCS: the parts of uploads killed before
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), hangEnv+"="+sc.url, hangEnv+"_KEY="+key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	for sc.debris(ctx, t, sc.name(key)) < before+hangAfter/(16<<20) {
		select {
		case <-exited:
			t.Fatalf("uploader exited before it was killed: %s", stderr.String())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			t.Fatal("no debris from the upload before the deadline")
		case <-time.After(20 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	<-exited
}

func sweepJSON(t *testing.T, sc sweepCase, code int, args ...string) sweep.Report {
	t.Helper()
	r := runCLI(t, sc.env, append([]string{"sweep", "uploads", "--store", sc.url, "-o", "json"}, args...)...)
	var rep sweep.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != code {
		t.Fatalf("sweep %v: exit %d (want %d), %v\n%s%s", args, r.code, code, err, r.stdout, r.stderr)
	}
	return rep
}
