package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// The hostile inputs of issue 11, against the real binary under a memory bound: an
// address-space limit (ulimit -v) that a 1 GiB allocation does not fit in beside the
// Go runtime's own reservations (about 1 GiB of address space), and GOMEMLIMIT. Each
// request must be answered with a 4xx or 5xx that names the problem; the process must
// stay alive, keep answering /healthz, and its peak RSS must stay far below what the
// requests claim.

// memoryLimits: 1.5 GiB of address space, of which the runtime reserves about 1 GiB.
const memoryLimits = "ulimit -v 1572864"

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, p *proc) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the process status: %v", err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/pid/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// putBlob stores b through the blob API (which verifies it) and returns its digest.
func putBlob(t *testing.T, p *proc, b []byte) string {
	t.Helper()
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	if status, out := request(t, "PUT", p.url("/v1/namespaces/default/blobs/sha256/"+digest), bytes.NewReader(b)); status != 201 && status != 200 {
		t.Fatalf("PUT blob: %d %s", status, out)
	}
	return digest
}

// refBody is a /codec decode body holding one reference with the given claims.
func refBody(digest string, size, rawSize int64, compression string) []byte {
	ref := fmt.Sprintf(`{"v":1,"sha256":"%s","size":%d,"rawSize":%d,"compression":"%s"}`, digest, size, rawSize, compression)
	return []byte(`{"payloads":[{"metadata":{"encoding":"` + base64.StdEncoding.EncodeToString([]byte("json/longhaul-ref")) +
		`"},"data":"` + base64.StdEncoding.EncodeToString([]byte(ref)) + `"}]}`)
}

// zstdBomb is a small zstd frame that expands to n zero bytes.
func zstdBomb(t *testing.T, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeros{}, n); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestHostileInputsUnderMemoryBound: each hostile case of issue 11, with the default
// admission limits and with admission out of the way (so the codec's own bounds are
// what holds), under the memory bound.
func TestHostileInputsUnderMemoryBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"defaults", nil},
		{"codec bounds alone", []string{"--max-inflight-bytes", "64GiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startIn(t, memoryLimits, []string{"GOMEMLIMIT=192MiB"}, append([]string{"--max-blob-bytes", "1GiB", "--max-codec-body-bytes", "16MiB"}, tc.args...)...)
			five := putBlob(t, p, []byte("hello"))
			bomb := zstdBomb(t, 256<<20)
			t.Logf("zstd bomb: %d bytes expanding to 256 MiB", len(bomb))
			bombDigest := putBlob(t, p, bomb)
			payloads := append(append([]byte(`{"payloads":[`), bytes.Repeat([]byte("{},"), 8<<20/3)...), []byte("{}]}")...)
			bigPayload := []byte(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L3BsYWlu"},"data":"` +
				base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("z"), 2<<20)) + `"}]}`)

			for _, h := range []struct {
				name   string
				path   string
				body   []byte
				status []int
				names  []string // one of them must be in the error
			}{
				{"5-byte blob claimed as 1 GiB", "/codec/default/decode", refBody(five, 1<<30, 1<<30, "none"), []int{413, 502}, []string{"max-inflight-bytes", "corrupt"}},
				{"5-byte blob claimed as 4 GiB", "/codec/default/decode", refBody(five, 4<<30, 4<<30, "none"), []int{400}, []string{"MaxSize"}},
				{"zstd bomb with a false rawSize", "/codec/default/decode", refBody(bombDigest, int64(len(bomb)), 100, "zstd"), []int{502}, []string{"corrupt"}},
				{"zstd bomb claiming 4 GiB raw", "/codec/default/decode", refBody(bombDigest, int64(len(bomb)), 4<<30, "zstd"), []int{400}, []string{"MaxSize"}},
				{"8 MiB of {}", "/codec/default/decode", payloads, []int{413}, []string{"payloads", "max-inflight-bytes"}},
			} {
				status, out := request(t, "POST", p.url(h.path), bytes.NewReader(h.body), "Content-Type", "application/json")
				named := false
				for _, n := range h.names {
					named = named || strings.Contains(string(out), n)
				}
				if !containsInt(h.status, status) || !named {
					t.Errorf("%s: %d %s; want %v naming one of %q", h.name, status, short(out), h.status, h.names)
				}
				healthzWithin(t, p, 5e9)
			}
			if status, out := request(t, "POST", p.url("/codec/default/encode"), bytes.NewReader(bigPayload), "Content-Type", "application/json"); status != 200 {
				t.Errorf("encode of 2 MiB under a 1 GiB blob limit: %d %s", status, short(out))
			}
			if peak := peakRSS(t, p); peak > 200<<20 {
				t.Errorf("peak RSS %d MiB after the hostile requests, want under 200 MiB", peak>>20)
			} else {
				t.Logf("peak RSS %d MiB", peak>>20)
			}
		})
	}
}

// TestEncodeOverMaxBlobBytes: /codec encode refuses a payload over --max-blob-bytes
// with 413 naming the limit, and stores nothing.
func TestEncodeOverMaxBlobBytes(t *testing.T) {
	dir := t.TempDir()
	p := startIn(t, memoryLimits, []string{"GOMEMLIMIT=192MiB"}, "--store", "file://"+dir, "--max-blob-bytes", "1MiB")
	body := []byte(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L3BsYWlu"},"data":"` +
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("q"), 2<<20)) + `"}]}`)
	status, out := request(t, "POST", p.url("/codec/default/encode"), bytes.NewReader(body), "Content-Type", "application/json")
	if status != 413 || !strings.Contains(string(out), "max-blob-bytes") {
		t.Fatalf("encode over --max-blob-bytes: %d %s, want 413 naming --max-blob-bytes", status, out)
	}
	if n := storedFiles(t, dir); n != 0 {
		t.Fatalf("%d blobs stored, want none", n)
	}
	healthzWithin(t, p, 5e9)
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
