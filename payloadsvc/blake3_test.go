package payloadsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

func blake3Hex(b []byte) string {
	h, _ := contenthash.New(driver.BLAKE3)
	h.Write(b)
	return contenthash.Hex(h)
}

// otherHex is hex with its last digit changed: an address of nothing.
func otherHex(hex string) string {
	last := "1"
	if hex[len(hex)-1] == '1' {
		last = "2"
	}
	return hex[:len(hex)-1] + last
}

func blake3Path(ns, hex string) string { return "/v1/namespaces/" + ns + "/blobs/blake3/" + hex }

// putErrStore keeps the error each Put returned, to show what a store reads from a
// refused body.
type putErrStore struct {
	driver.Store
	mu   sync.Mutex
	errs []error
}

func (s *putErrStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	created, err := s.Store.Put(ctx, key, src, size)
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	return created, err
}

func (s *putErrStore) last() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	return s.errs[len(s.errs)-1]
}

// TestBlobAPIBlake3 walks the blake3 blob path through the contract of the sha256 one:
// 201 created, 200 present, 400 on a digest mismatch with nothing stored, 413 over the
// limit, 400 for an address that is not one, 404 for what is not there. Bodies over one
// batch are hashed in batches beside the reads, smaller ones inline; both are tried.
func TestBlobAPIBlake3(t *testing.T) {
	store := &putErrStore{Store: memstore.New()}
	svc := startService(t, store, Options{MaxBlobBytes: 4 << 20})
	big, _ := randomBlob(t, 3*hashBatch+12345) // batched, with a partial last batch
	bigHex := blake3Hex(big)
	small, _ := randomBlob(t, 100<<10) // inline
	smallHex, smallSHA := blake3Hex(small), sha256Hex(small)
	flipped := bytes.Clone(big)
	flipped[2*hashBatch+7] ^= 1
	_, missingHex := randomBlob(t, 10) // any 64 hex digits that address nothing
	other := []byte("these bytes do not hash to the path")
	chainHdr := map[string]string{sha256chain.Header: chainOf(big)}

	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                map[string]string
		want               int
		wantBody           []byte // GET
		wantMsg            string // in the error
	}{
		{"PUT creates", "PUT", blake3Path("default", bigHex), big, nil, 201, nil, ""},
		{"PUT again is present", "PUT", blake3Path("default", bigHex), big, nil, 200, nil, ""},
		{"GET", "GET", blake3Path("default", bigHex), nil, nil, 200, big, ""},
		{"HEAD", "HEAD", blake3Path("default", bigHex), nil, nil, 200, nil, ""},
		{"small PUT creates", "PUT", blake3Path("default", smallHex), small, nil, 201, nil, ""},
		{"small GET", "GET", blake3Path("default", smallHex), nil, nil, 200, small, ""},
		{"not under the sha256 path", "HEAD", blobPath("default", bigHex), nil, nil, 404, nil, ""},
		{"not in another namespace", "HEAD", blake3Path("other", bigHex), nil, nil, 404, nil, ""},
		{"mismatch, inline", "PUT", blake3Path("default", missingHex), other, nil, 400, nil,
			"digest mismatch: body blake3 is " + blake3Hex(other) + ", want " + missingHex + "; nothing stored"},
		{"mismatch, batched", "PUT", blake3Path("default", missingHex), flipped, nil, 400, nil,
			"digest mismatch: body blake3 is " + blake3Hex(flipped) + ", want " + missingHex + "; nothing stored"},
		{"after a mismatch nothing is stored", "GET", blake3Path("default", missingHex), nil, nil, 404, nil, "blob not found"},
		{"HEAD of a missing blob", "HEAD", blake3Path("default", missingHex), nil, nil, 404, nil, ""},
		{"a sha256 digest under the blake3 path", "PUT", blake3Path("default", smallSHA), small, nil, 400, nil,
			"digest mismatch: body blake3 is " + smallHex + ", want " + smallSHA},
		{"nothing stored under the sha256 digest", "GET", blake3Path("default", smallSHA), nil, nil, 404, nil, ""},
		{"over the limit", "PUT", blake3Path("default", missingHex), make([]byte, 4<<20+1), nil, 413, nil, "over the 4194304-byte limit"},
		{"digest not hex", "GET", blake3Path("default", "xyz"), nil, nil, 400, nil, `blake3 "xyz" is not 64 lowercase hex`},
		{"digest uppercase", "PUT", blake3Path("default", strings.ToUpper(bigHex)), big, nil, 400, nil, "not 64 lowercase hex digits"},
		{"digest too short", "HEAD", blake3Path("default", bigHex[:62]), nil, nil, 400, nil, ""},
		{"a SHA-256 chain with a blake3 PUT", "PUT", blake3Path("default", bigHex), big, chainHdr, 400, nil,
			"a blake3 blob PUT takes no " + sha256chain.Header + " header"},
		{"empty body under another digest", "PUT", blake3Path("default", missingHex), []byte{}, nil, 400, nil,
			"an empty body's blake3 is " + blake3Hex(nil)},
		{"empty body", "PUT", blake3Path("default", blake3Hex(nil)), []byte{}, nil, 201, nil, ""},
		{"wrong method", "DELETE", blake3Path("default", bigHex), nil, nil, 405, nil, "GET, HEAD, PUT"},
		{"unknown hash", "GET", "/v1/namespaces/default/blobs/md5/" + bigHex, nil, nil, 404, nil, "no such endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := svc.do(t, tc.method, tc.path, tc.body, tc.hdr)
			if status != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, status, short(body), tc.want)
			}
			if tc.wantBody != nil && !bytes.Equal(body, tc.wantBody) {
				t.Fatalf("GET: %d bytes, want the %d-byte blob", len(body), len(tc.wantBody))
			}
			if tc.method == "HEAD" && status == 200 && hdr.Get("Content-Length") != strconv.Itoa(len(big)) {
				t.Fatalf("HEAD: Content-Length %q, want %d", hdr.Get("Content-Length"), len(big))
			}
			if status == 200 && hdr.Get(sha256chain.Header) != "" {
				t.Fatalf("%s of a blake3 blob sent a SHA-256 chain", tc.method)
			}
			if tc.wantMsg == "" {
				return
			}
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || !strings.Contains(eb.Error, tc.wantMsg) {
				t.Fatalf("error %s does not name the problem: missing %q", short(body), tc.wantMsg)
			}
		})
	}
	// What a store reads in place of a mismatching body's last bytes names the hash.
	status, _, _ := svc.do(t, "PUT", blake3Path("default", missingHex), flipped, nil)
	if err := store.last(); status != 400 || !errors.Is(err, errDigestMismatch) || !strings.Contains(err.Error(), "blake3 address") {
		t.Fatalf("store's Put of a mismatching body: %v (status %d), want errDigestMismatch naming blake3", err, status)
	}
	if n := svc.h.metrics.bytesInFor(routeBlob); n < int64(2*len(big)) {
		t.Errorf("blob route counted %d request bytes, want at least the two big PUTs", n)
	}
}

// TestBlake3Check: every way of writing a body (in small reads, in large ones, both in
// turn; batched or not) verifies the true body, and refuses a flipped byte, a short body
// and a long one.
func TestBlake3Check(t *testing.T) {
	for _, size := range []int{0, 1, hashBatch - 1, hashBatch, hashBatch + 1, 3*hashBatch + 5} {
		body, _ := randomBlob(t, size)
		var want [contenthash.Size]byte
		h, _ := contenthash.New(driver.BLAKE3)
		h.Write(body)
		h.Sum(want[:0])
		for _, chunks := range [][]int{{1000}, {64 << 10}, {3 << 20}, {1000, 2 << 20, 70000, hashBatch, 5}} {
			for _, slots := range []*batchSlots{nil, newBatchSlots(1)} {
				write := func(c *blake3Check, b []byte) {
					for i := 0; len(b) > 0; i++ {
						k := min(chunks[i%len(chunks)], len(b))
						c.Write(b[:k])
						b = b[k:]
					}
				}
				c := newBlake3Check(want, int64(size), slots)
				write(c, body)
				if err := c.Verify(); err != nil {
					t.Fatalf("size %d chunks %v slots %v: true body: %v", size, chunks, slots != nil, err)
				}
				c.Wait() // after Verify: nothing more to do
				if slots != nil && len(slots.free) != cap(slots.free) {
					t.Fatalf("size %d: the slot was not given back", size)
				}
				if size == 0 {
					continue
				}
				bad := map[string][]byte{"flipped": bytes.Clone(body), "short": body[:size-1], "long": append(bytes.Clone(body), 'x')}
				bad["flipped"][size/2] ^= 1
				for name, b := range bad {
					c := newBlake3Check(want, int64(size), slots)
					write(c, b)
					if err := c.Verify(); !errors.Is(err, errBlake3Mismatch) {
						t.Fatalf("size %d chunks %v slots %v: %s body: %v, want errBlake3Mismatch", size, chunks, slots != nil, name, err)
					}
				}
			}
		}
	}
}

// TestBlake3CheckSlots: small writes are batched while a slot is free, else hashed as
// they come; an abandoned check gives its batch back.
func TestBlake3CheckSlots(t *testing.T) {
	slots := newBatchSlots(1)
	var want [contenthash.Size]byte
	first := newBlake3Check(want, 4*hashBatch, slots)
	second := newBlake3Check(want, 4*hashBatch, slots)
	first.Write(make([]byte, 1000))
	second.Write(make([]byte, 1000))
	if len(first.batch) != 1000 || second.batch != nil || !second.noBatch {
		t.Fatalf("first batched %d bytes, second %v (noBatch %v); want the first only (one slot)", len(first.batch), second.batch, second.noBatch)
	}
	first.Write(make([]byte, 2*hashBatch)) // fills the batch and sends it, then hashes the rest in place
	if first.batch != nil || first.pair == nil || len(slots.free) != 0 {
		t.Fatalf("first holds %d bytes after a large write, want none, and still its slot", len(first.batch))
	}
	first.Wait() // abandoned mid-way
	second.Wait()
	if len(slots.free) != 1 {
		t.Fatal("the abandoned check kept its slot")
	}
	third := newBlake3Check(want, 4*hashBatch, slots)
	if third.Write(make([]byte, 10)); third.batch == nil {
		t.Fatal("a check after the slot came back hashes inline")
	}
	third.Wait()
}

// TestBlobAPIBlake3Concurrent: PUTs of many blobs at once, more than the slots, each
// verified whether batched or inline.
func TestBlobAPIBlake3Concurrent(t *testing.T) {
	svc := startService(t, nil, Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 2*(maxBatchSlots+4))
	for i := 0; i < maxBatchSlots+4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := randomBlob(t, 2*hashBatch+i)
			hx := blake3Hex(b)
			if status, _, body, err := svc.try("PUT", blake3Path("default", hx), b, nil); err != nil || status != http.StatusCreated {
				errs <- "PUT: " + strconv.Itoa(status) + " " + short(body)
			}
			bad := bytes.Clone(b)
			bad[i] ^= 1
			if status, _, body, err := svc.try("PUT", blake3Path("default", otherHex(hx)), bad, nil); err != nil || status != 400 {
				errs <- "mismatching PUT: " + strconv.Itoa(status) + " " + short(body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestClientSendsNoChainForBlake3: a source that offers its SHA-256 chain (the codec's)
// PUT under a v2 key goes without it, since the service refuses a chain with a blake3
// PUT; under a v1 key the chain goes along.
func TestClientSendsNoChainForBlake3(t *testing.T) {
	svc := startService(t, nil, Options{})
	var mu sync.Mutex
	seen := map[string]string{} // hash in the path -> chain header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			seen[parseRoute(r.URL.EscapedPath()).algorithm] = r.Header.Get(sha256chain.Header)
			mu.Unlock()
		}
		svc.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cl, err := blobclient.New(srv.URL, blobclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, shaHex := randomBlob(t, 3*sha256chain.MinInterval+5)
	_, chain := sha256chain.Sum([][]byte{b}, sha256chain.MinInterval)
	ctx := testCtx(t, time.Minute)
	for alg, digest := range map[string]string{driver.SHA256: shaHex, driver.BLAKE3: blake3Hex(b)} {
		key, _ := driver.Key("default", alg, digest)
		src := chainedReader{Reader: bytes.NewReader(b), chain: chain}
		if created, err := cl.Put(ctx, key, src, int64(len(b))); err != nil || !created {
			t.Fatalf("Put %s = %v, %v; want created", key, created, err)
		}
		storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, cl, key), b)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[driver.SHA256] == "" || seen[driver.BLAKE3] != "" {
		t.Fatalf("chain headers sent: %q; want one with the sha256 PUT only", seen)
	}
}

// TestClientBlake3Dedupe: a second Put of a v2 key the service has is answered before
// the body leaves the client, as for v1.
func TestClientBlake3Dedupe(t *testing.T) {
	svc := startService(t, nil, Options{})
	c := svc.client(t, blobclient.Options{})
	ctx := testCtx(t, time.Minute)
	b, _ := randomBlob(t, 4<<20)
	key, _ := driver.Key("default", driver.BLAKE3, blake3Hex(b))
	if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
		t.Fatalf("first Put = %v, %v; want created", created, err)
	}
	before := svc.wire.n.Load()
	if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
		t.Fatalf("Put of a present blob = %v, %v; want not created", created, err)
	}
	if got := svc.wire.n.Load() - before; got > 4<<10 {
		t.Fatalf("Put of a present blob: server read %d bytes, want only headers", got)
	}
	info, err := c.Touch(ctx, key)
	if err != nil || info.Size != int64(len(b)) {
		t.Fatalf("Touch = %+v, %v; want size %d", info, err, len(b))
	}
}
