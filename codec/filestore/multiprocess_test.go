package filestore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
)

// blobFor returns the i-th test blob (256 KiB, reproducible) and its key.
func blobFor(i int) ([]byte, string) {
	b := bytes.Repeat([]byte(fmt.Sprintf("blob %d of the multi-process test;", i)), 8000)
	sum := sha256.Sum256(b)
	key, _ := driver.Key("mp", driver.SHA256, hex.EncodeToString(sum[:]))
	return b, key
}

const mpBlobs = 20

// TestMain lets the test binary act as a writer process for TestSeveralProcesses.
func TestMain(m *testing.M) {
	if dir := os.Getenv("FILESTORE_MP_WRITER"); dir != "" {
		os.Exit(writer(dir))
	}
	os.Exit(m.Run())
}

// writer puts every test blob (in an order of its own) and reads each back.
func writer(dir string) int {
	s, err := filestore.New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start, _ := strconv.Atoi(os.Getenv("FILESTORE_MP_START"))
	ctx := context.Background()
	for j := 0; j < mpBlobs; j++ {
		b, key := blobFor((start + j) % mpBlobs)
		if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			return 1
		}
		r, err := s.Get(ctx, key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			return 1
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, b) {
			fmt.Fprintf(os.Stderr, "blob %s read back wrong (%d bytes, %v)\n", key, len(got), err)
			return 1
		}
	}
	return 0
}

// TestSeveralProcesses: four processes write the same blobs into one directory at once,
// each reading back what it wrote; all succeed and every blob is intact, with no temporary
// file left behind.
func TestSeveralProcesses(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := 0; p < 4; p++ {
		cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "FILESTORE_MP_WRITER="+dir, "FILESTORE_MP_START="+strconv.Itoa(p*5))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i, err, outs[i])
		}
	}
	s, err := filestore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < mpBlobs; i++ {
		b, key := blobFor(i)
		storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
	}
	if left, _ := os.ReadDir(dir + "/.tmp"); len(left) != 0 {
		t.Fatalf("%d temporary files left behind", len(left))
	}
}
