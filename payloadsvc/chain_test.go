package payloadsvc

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// chainOf is the chain the codec would send for b, at the smallest interval.
func chainOf(b []byte) string {
	_, c := sha256chain.Sum([][]byte{b}, sha256chain.MinInterval)
	return c.Format()
}

// A PUT with its SHA-256 chain is verified as strictly as one without: the true body is
// stored, and every lie about body, digest or chain stores nothing.
func TestPutWithChain(t *testing.T) {
	svc := startService(t, nil, Options{})
	const n = 3*sha256chain.MinInterval + 100
	victim, victimHex := randomBlob(t, n)
	attacker, _ := randomBlob(t, n)
	flipped := bytes.Clone(victim)
	flipped[2*sha256chain.MinInterval] ^= 1
	hdr := func(chain string) map[string]string { return map[string]string{sha256chain.Header: chain} }
	cases := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		msg    string
	}{
		{"attacker's body and chain under the victim's digest", attacker, hdr(chainOf(attacker)), 400, "interval 4 of 4"},
		{"attacker's body with the victim's chain", attacker, hdr(chainOf(victim)), 400, "interval 1 of 4"},
		{"one byte flipped in a middle interval", flipped, hdr(chainOf(victim)), 400, "interval 3 of 4"},
		{"chain for another size", victim, hdr(chainOf(victim[:n-sha256chain.MinInterval])), 400, "bad " + sha256chain.Header},
		{"interval not a power of two", victim, hdr("3000000 " + strings.Fields(chainOf(victim))[1]), 400, "not a power of two"},
		{"a hundred thousand states claimed", victim, hdr("1048576" + strings.Repeat(" x", 100_000)), 400, "want 3"},
		{"the true body and chain", victim, hdr(chainOf(victim)), 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, out := svc.do(t, http.MethodPut, blobPath("default", victimHex), tc.body, tc.hdr)
			if status != tc.status || !strings.Contains(string(out), tc.msg) {
				t.Fatalf("PUT = %d %s, want %d containing %q", status, out, tc.status, tc.msg)
			}
			status, _, got := svc.do(t, http.MethodGet, blobPath("default", victimHex), nil, nil)
			switch {
			case tc.status == 201 && (status != 200 || !bytes.Equal(got, victim)):
				t.Fatalf("GET after the true PUT = %d (%d bytes), want the body", status, len(got))
			case tc.status != 201 && status != 404:
				t.Fatalf("GET after a refused PUT = %d, want 404: something was stored", status)
			}
		})
	}
}

// The service sends a blob's chain with it only when an upload proved that chain: not
// for a blob stored without one, not after a refused upload, not with a partial answer.
func TestGetSendsProvenChain(t *testing.T) {
	svc := startService(t, nil, Options{})
	const n = 3*sha256chain.MinInterval + 5
	chained, chainedHex := randomBlob(t, n)
	plain, plainHex := randomBlob(t, n)
	refused, refusedHex := randomBlob(t, n)
	hdr := func(b []byte) map[string]string { return map[string]string{sha256chain.Header: chainOf(b)} }
	if status, _, out := svc.do(t, http.MethodPut, blobPath("default", chainedHex), chained, hdr(chained)); status != 201 {
		t.Fatalf("PUT with a chain = %d %s", status, out)
	}
	if status, _, out := svc.do(t, http.MethodPut, blobPath("default", plainHex), plain, nil); status != 201 {
		t.Fatalf("PUT without a chain = %d %s", status, out)
	}
	refused[0] ^= 1
	if status, _, _ := svc.do(t, http.MethodPut, blobPath("default", refusedHex), refused, hdr(refused)); status != 400 {
		t.Fatalf("forged PUT = %d, want 400", status)
	}
	refused[0] ^= 1
	if status, _, _ := svc.do(t, http.MethodPut, blobPath("default", refusedHex), refused, nil); status != 201 {
		t.Fatalf("PUT of the refused blob's true body = %d, want 201", status)
	}
	for _, tc := range []struct {
		name, hex, rng string
		want           string
	}{
		{"stored with a chain", chainedHex, "", chainOf(chained)},
		{"stored without one", plainHex, "", ""},
		{"its chained upload refused", refusedHex, "", ""},
		{"a range", chainedHex, "bytes=10-", ""},
	} {
		h := map[string]string{}
		if tc.rng != "" {
			h["Range"] = tc.rng
		}
		status, got, _ := svc.do(t, http.MethodGet, blobPath("default", tc.hex), nil, h)
		if status != 200 && status != 206 {
			t.Fatalf("%s: GET = %d", tc.name, status)
		}
		if v := got.Get(sha256chain.Header); v != tc.want {
			t.Errorf("%s: GET sent chain %.40q, want %.40q", tc.name, v, tc.want)
		}
	}
}

// An empty body names one digest only: stored under any other, it would poison the
// dedupe of the real blob (a store may not read an empty source, so nothing checked it).
func TestPutEmptyBodyVerified(t *testing.T) {
	svc := startService(t, nil, Options{})
	_, otherHex := randomBlob(t, 10)
	status, _, out := svc.do(t, http.MethodPut, blobPath("default", otherHex), []byte{}, nil)
	if status != 400 || !strings.Contains(string(out), "digest mismatch") {
		t.Fatalf("empty PUT under another digest = %d %s, want 400 digest mismatch", status, out)
	}
	if status, _, _ := svc.do(t, http.MethodGet, blobPath("default", otherHex), nil, nil); status != 404 {
		t.Fatalf("GET after the refused empty PUT = %d, want 404", status)
	}
	if status, _, out := svc.do(t, http.MethodPut, blobPath("default", sha256Hex(nil)), []byte{}, nil); status != 201 {
		t.Fatalf("empty PUT under the empty digest = %d %s, want 201", status, out)
	}
}

// The codec's Put source carries its chain, and the Client sends it: the service sees
// it on every PUT of a blob over one interval, and none on a smaller one.
func TestClientSendsChain(t *testing.T) {
	h, err := NewHandler(memstore.New(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]string{} // Content-Length -> chain header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			seen[r.ContentLength] = r.Header.Get(sha256chain.Header)
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cl, err := blobclient.New(srv.URL, blobclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(cl, codec.Options{Compression: codec.NoCompression, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	big, _ := randomBlob(t, 9<<20)
	small, _ := randomBlob(t, 900<<10)
	in := []*commonpb.Payload{
		{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: big},
		{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: small},
	}
	enc, err := c.EncodeContext(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.DecodeContext(context.Background(), enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec[0].Data, big) || !bytes.Equal(dec[1].Data, small) {
		t.Fatal("round trip through the service changed the data")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("service saw %d PUTs, want 2", len(seen))
	}
	for size, chain := range seen {
		switch {
		case size > sha256chain.MinInterval && chain == "":
			t.Errorf("PUT of %d bytes came without a chain", size)
		case size > sha256chain.MinInterval:
			if _, err := sha256chain.Parse(chain, size); err != nil {
				t.Errorf("PUT of %d bytes: chain does not parse: %v", size, err)
			}
		case chain != "":
			t.Errorf("PUT of %d bytes (one interval) came with a chain", size)
		}
	}
}

func blobPath(ns, hex string) string { return "/v1/namespaces/" + ns + "/blobs/sha256/" + hex }

// A service's chain is a claim: a malformed one is ignored and a false one costs the
// client a serial pass, never a failed decode of good bytes.
func TestClientDistrustsChain(t *testing.T) {
	st := memstore.New()
	direct, err := codec.New(st, codec.Options{Compression: codec.NoCompression, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := randomBlob(t, 3<<20)
	enc, err := direct.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseReference(enc[0])
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ref.Key("default")
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := io.ReadAll(rc)
	rc.Close()
	for _, chain := range []string{"garbage", chainOf(bytes.Repeat([]byte{7}, len(blob))), chainOf(blob)} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(sha256chain.Header, chain)
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			_, _ = w.Write(blob)
		}))
		cl, err := blobclient.New(srv.URL, blobclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := codec.New(cl, codec.Options{CacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c.Decode(enc)
		if err != nil || !bytes.Equal(dec[0].Data, data) {
			t.Errorf("chain %.20q: Decode = %v", chain, err)
		}
		srv.Close()
	}
}
