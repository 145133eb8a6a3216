package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// TestForgedPUTsStoreNothing: blob PUTs that lie about their bytes, against the real
// binary over a file store under a memory bound. A blob stored under a digest it does
// not have would poison every later Put of the real blob (it dedupes against the fake),
// so each lie must be refused with a 400 naming it and leave nothing on disk, and the
// truth must still be stored.
func TestForgedPUTsStoreNothing(t *testing.T) {
	dir := t.TempDir()
	p := startIn(t, memoryLimits, []string{"GOMEMLIMIT=192MiB"}, "--store", "file://"+dir)
	const n = 9<<20 + 123
	victim, attacker := make([]byte, n), make([]byte, n)
	rand.Read(victim)
	rand.Read(attacker)
	sum := sha256.Sum256(victim)
	path := p.url("/v1/namespaces/default/blobs/sha256/" + hex.EncodeToString(sum[:]))
	chain := func(b []byte) string {
		_, c := sha256chain.Sum([][]byte{b}, sha256chain.IntervalFor(int64(len(b))))
		return c.Format()
	}
	flipped := bytes.Clone(victim)
	flipped[5<<20] ^= 0x80
	for _, tc := range []struct {
		name  string
		body  []byte
		chain string
		want  string
	}{
		{"empty body", []byte{}, "", "digest mismatch"},
		{"another body, no chain", attacker, "", "digest mismatch: body sha256 is"},
		{"another body with its own chain", attacker, chain(attacker), "interval 10 of 10"},
		{"another body with the victim's chain", attacker, chain(victim), "interval 1 of 10"},
		{"one bit flipped under the victim's chain", flipped, chain(victim), "interval 6 of 10"},
		{"a chain of 10,000 states", victim, "4194304" + strings.Repeat(" AAAA", 10_000), "bad " + sha256chain.Header},
		{"a chain with a state that is no SHA-256 state", victim, "4194304 " + strings.Repeat("A", 144) + " " + strings.Repeat("A", 144), "not a SHA-256 state"},
	} {
		hdr := []string{}
		if tc.chain != "" {
			hdr = []string{sha256chain.Header, tc.chain}
		}
		status, out := request(t, "PUT", path, bytes.NewReader(tc.body), hdr...)
		if status != 400 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %d %s; want 400 naming %q", tc.name, status, short(out), tc.want)
		}
		if got := storedFiles(t, dir); got != 0 {
			t.Fatalf("%s: %d blobs on disk after a refused PUT", tc.name, got)
		}
		healthzWithin(t, p, 5e9)
	}
	if status, out := request(t, "PUT", path, bytes.NewReader(victim), sha256chain.Header, chain(victim)); status != 201 {
		t.Fatalf("the true body with its chain: %d %s, want 201", status, short(out))
	}
	if status, out := request(t, "GET", path, nil); status != 200 || !bytes.Equal(out, victim) {
		t.Fatalf("GET of the stored blob: %d, %d bytes; want the body", status, len(out))
	}
}

// TestForgedBlake3PUTsStoreNothing is TestForgedPUTsStoreNothing for the blake3 path: a
// file store reads a body 32 KiB at a time, so the service checks it in batches beside
// the reads; every lie is refused with a 400 naming it, nothing reaches the disk, and the
// truth is stored.
func TestForgedBlake3PUTsStoreNothing(t *testing.T) {
	dir := t.TempDir()
	p := startIn(t, memoryLimits, []string{"GOMEMLIMIT=192MiB"}, "--store", "file://"+dir)
	const n = 9<<20 + 123
	victim, attacker := make([]byte, n), make([]byte, n)
	rand.Read(victim)
	rand.Read(attacker)
	blake3Hex := func(b []byte) string {
		h, _ := contenthash.New(driver.BLAKE3)
		h.Write(b)
		return contenthash.Hex(h)
	}
	path := p.url("/v1/namespaces/default/blobs/blake3/" + blake3Hex(victim))
	_, chain := sha256chain.Sum([][]byte{victim}, sha256chain.IntervalFor(n))
	flipped := bytes.Clone(victim)
	flipped[5<<20] ^= 0x80
	for _, tc := range []struct {
		name string
		body []byte
		hdr  []string
		want string
	}{
		{"empty body", []byte{}, nil, "an empty body's blake3 is"},
		{"another body", attacker, nil, "digest mismatch: body blake3 is " + blake3Hex(attacker)},
		{"one bit flipped", flipped, nil, "digest mismatch: body blake3 is " + blake3Hex(flipped)},
		{"one byte short", victim[:n-1], nil, "digest mismatch: body blake3 is"},
		{"the true body with a SHA-256 chain", victim, []string{sha256chain.Header, chain.Format()}, "takes no " + sha256chain.Header},
	} {
		status, out := request(t, "PUT", path, bytes.NewReader(tc.body), tc.hdr...)
		if status != 400 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %d %s; want 400 naming %q", tc.name, status, short(out), tc.want)
		}
		if got := storedFiles(t, dir); got != 0 {
			t.Fatalf("%s: %d blobs on disk after a refused PUT", tc.name, got)
		}
		healthzWithin(t, p, 5e9)
	}
	if status, out := request(t, "PUT", path, bytes.NewReader(victim)); status != 201 {
		t.Fatalf("the true body: %d %s, want 201", status, short(out))
	}
	if status, out := request(t, "GET", path, nil); status != 200 || !bytes.Equal(out, victim) {
		t.Fatalf("GET of the stored blob: %d, %d bytes; want the body", status, len(out))
	}
}
