package codec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// randomBytes returns n incompressible, reproducible bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	_, _ = r.Read(b)
	return b
}

func payload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
}

func newCodec(t testing.TB, s driver.Store, opts codec.Options) *codec.Codec {
	t.Helper()
	c, err := codec.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func roundTrip(t *testing.T, c *codec.Codec, in []*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(dec) != len(in) {
		t.Fatalf("Decode returned %d payloads, want %d", len(dec), len(in))
	}
	for i := range in {
		if !proto.Equal(dec[i], in[i]) {
			t.Fatalf("payload %d changed in the round trip", i)
		}
	}
	return enc
}

func TestThresholdBoundary(t *testing.T) {
	p := payload(randomBytes(300<<10, 1))
	n := p.Size()
	for _, tc := range []struct {
		threshold int
		offloaded bool
	}{
		{n, false},    // size == threshold: stays inline
		{n - 1, true}, // size == threshold+1: offloaded
	} {
		t.Run(fmt.Sprintf("threshold=size-%d", n-tc.threshold), func(t *testing.T) {
			store := memstore.New()
			c := newCodec(t, store, codec.Options{Threshold: tc.threshold, InlineBudget: 4 << 20})
			enc := roundTrip(t, c, []*commonpb.Payload{p})
			if got := codec.IsReference(enc[0]); got != tc.offloaded {
				t.Fatalf("payload of %d bytes with threshold %d: offloaded=%v, want %v", n, tc.threshold, got, tc.offloaded)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.offloaded]; store.Len() != want {
				t.Fatalf("store holds %d blobs, want %d", store.Len(), want)
			}
		})
	}
}

func TestSmallPayloadsPassThroughWithoutAllocation(t *testing.T) {
	c := newCodec(t, memstore.New(), codec.Options{})
	in := []*commonpb.Payload{payload([]byte(`"small"`)), payload(make([]byte, 100<<10))}
	allocs := testing.AllocsPerRun(100, func() {
		out, err := c.Encode(in)
		if err != nil || &out[0] != &in[0] {
			t.Fatalf("Encode returned a new slice or error %v", err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Encode of small payloads allocated %.1f times per call, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		out, err := c.Decode(in)
		if err != nil || &out[0] != &in[0] {
			t.Fatalf("Decode returned a new slice or error %v", err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode of non-references allocated %.1f times per call, want 0", allocs)
	}
}

func TestInlineBudgetOffloadsLargestFirst(t *testing.T) {
	sizes := []int{100 << 10, 300 << 10, 200 << 10, 50 << 10}
	var in []*commonpb.Payload
	for i, n := range sizes {
		in = append(in, payload(randomBytes(n, uint64(i))))
	}
	tests := []struct {
		budget int
		want   []bool
	}{
		{budget: 700 << 10, want: []bool{false, false, false, false}},
		{budget: 400 << 10, want: []bool{false, true, false, false}},
		{budget: 200 << 10, want: []bool{false, true, true, false}},
		{budget: 10 << 10, want: []bool{true, true, true, true}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("budget=%dKiB", tc.budget>>10), func(t *testing.T) {
			c := newCodec(t, memstore.New(), codec.Options{Threshold: 1 << 20, InlineBudget: tc.budget})
			enc := roundTrip(t, c, in)
			for i := range in {
				if got := codec.IsReference(enc[i]); got != tc.want[i] {
					t.Errorf("payload %d (%d KiB): offloaded=%v, want %v", i, sizes[i]>>10, got, tc.want[i])
				}
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	store := memstore.New()
	c := newCodec(t, store, codec.Options{})
	data := randomBytes(1<<20, 7)
	roundTrip(t, c, []*commonpb.Payload{payload(data)})
	roundTrip(t, c, []*commonpb.Payload{payload(bytes.Clone(data))})
	// Same payload twice in one call, too.
	roundTrip(t, c, []*commonpb.Payload{payload(data), payload(data)})
	if store.Len() != 1 {
		t.Fatalf("store holds %d blobs after storing one payload four times, want 1", store.Len())
	}
	st := c.Stats()
	if st.BlobsStored+st.DedupeHits != 4 || st.DedupeHits < 2 {
		t.Fatalf("stats: stored %d, dedupe hits %d; want 4 offloads with at least 2 dedupe hits", st.BlobsStored, st.DedupeHits)
	}
}

func TestCompression(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		opt  codec.Compression
		want codec.Compression
	}{
		{"repetitive", bytes.Repeat([]byte("migrating table users; "), 50000), codec.Zstd, "zstd"},
		{"random skips zstd", randomBytes(1<<20, 3), codec.Zstd, "none"},
		{"disabled", bytes.Repeat([]byte("abc"), 400000), codec.NoCompression, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodec(t, memstore.New(), codec.Options{Compression: tc.opt})
			enc := roundTrip(t, c, []*commonpb.Payload{payload(tc.data)})
			ref, err := codec.ParseReference(enc[0])
			if err != nil {
				t.Fatal(err)
			}
			if ref.Compression != tc.want {
				t.Fatalf("compression = %q, want %q", ref.Compression, tc.want)
			}
			if tc.want == "zstd" && ref.Size*10 > ref.RawSize {
				t.Fatalf("zstd stored %d of %d bytes; repetitive data should shrink 10x", ref.Size, ref.RawSize)
			}
		})
	}
}

func TestOrderPreservedInParallel(t *testing.T) {
	var in []*commonpb.Payload
	for i := 0; i < 12; i++ {
		if i%3 == 0 {
			in = append(in, payload([]byte(fmt.Sprintf(`"inline %d"`, i))))
		} else {
			in = append(in, payload(randomBytes(300<<10+i, uint64(i))))
		}
	}
	c := newCodec(t, memstore.New(), codec.Options{Concurrency: 3})
	roundTrip(t, c, in)
}

func TestCacheBoundUnderConcurrency(t *testing.T) {
	store := memstore.New()
	const capacity = 3 << 20
	writer := newCodec(t, store, codec.Options{CacheBytes: -1})
	var refs []*commonpb.Payload
	for i := 0; i < 10; i++ {
		enc, err := writer.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, uint64(100+i)))})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, enc[0])
	}
	reader := newCodec(t, store, codec.Options{CacheBytes: capacity})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := reader.Decode([]*commonpb.Payload{refs[(g+i)%len(refs)]}); err != nil {
					t.Error(err)
					return
				}
				if cb := reader.Stats().CacheBytes; cb > capacity {
					t.Errorf("cache holds %d bytes, over its %d bound", cb, capacity)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := reader.Stats()
	if st.CacheHits == 0 || st.CacheMisses == 0 {
		t.Fatalf("cache hits %d, misses %d: want both (10 MiB of payloads through a 3 MiB cache)", st.CacheHits, st.CacheMisses)
	}
	// Repeated decodes of one reference are served from the cache.
	before := reader.Stats().BytesFetched
	for i := 0; i < 5; i++ {
		if _, err := reader.Decode(refs[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if fetched := reader.Stats().BytesFetched - before; fetched > 1<<20+1024 {
		t.Fatalf("five decodes of one reference fetched %d bytes, want at most one fetch", fetched)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name  string
		store driver.Store
		opts  codec.Options
		want  string
	}{
		{"nil store", nil, codec.Options{}, "store is nil"},
		{"negative threshold", memstore.New(), codec.Options{Threshold: -1}, "Threshold"},
		{"negative budget", memstore.New(), codec.Options{InlineBudget: -5}, "InlineBudget"},
		{"negative concurrency", memstore.New(), codec.Options{Concurrency: -1}, "Concurrency"},
		{"negative timeout", memstore.New(), codec.Options{Timeout: -1}, "Timeout"},
		{"bad compression", memstore.New(), codec.Options{Compression: "gzip"}, "Compression"},
		{"namespace with slash", memstore.New(), codec.Options{Namespace: "a/b"}, "Namespace"},
		{"namespace dotdot", memstore.New(), codec.Options{Namespace: ".."}, "Namespace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.New(tc.store, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestDecodeBadReferences(t *testing.T) {
	c := newCodec(t, memstore.New(), codec.Options{})
	good := strings.Repeat("a", 64)
	tests := []struct {
		name, data, field string
	}{
		{"not json", `{not json`, "JSON"},
		{"missing v", `{"sha256":"` + good + `","size":1,"rawSize":1,"compression":"none"}`, `"v"`},
		{"future version", `{"v":3,"blake3":"` + good + `"}`, `"v" is 3`},
		{"v2 naming a sha256", `{"v":2,"sha256":"` + good + `","size":1,"rawSize":1,"compression":"none"}`, `"blake3"`},
		{"v2 with both digests", `{"v":2,"blake3":"` + good + `","sha256":"` + good + `","size":1,"rawSize":1,"compression":"none"}`,
			"v2 only the blake3"},
		{"v1 with a blake3", `{"v":1,"sha256":"` + good + `","blake3":"` + good + `","size":1,"rawSize":1,"compression":"none"}`,
			"v1 names only the sha256"},
		{"v2 short digest", `{"v":2,"blake3":"abc","size":1,"rawSize":1,"compression":"none"}`, `"blake3"`},
		{"v2 uppercase digest", `{"v":2,"blake3":"` + strings.ToUpper(good) + `","size":1,"rawSize":1,"compression":"none"}`, `"blake3"`},
		{"v2 negative rawSize", `{"v":2,"blake3":"` + good + `","size":1,"rawSize":-1,"compression":"zstd"}`, `"rawSize"`},
		{"v2 wrong type", `{"v":2,"blake3":[1]}`, "blake3"},
		{"short digest", `{"v":1,"sha256":"abc","size":1,"rawSize":1,"compression":"none"}`, `"sha256"`},
		{"uppercase digest", `{"v":1,"sha256":"` + strings.ToUpper(good) + `","size":1,"rawSize":1,"compression":"none"}`, `"sha256"`},
		{"negative size", `{"v":1,"sha256":"` + good + `","size":-1,"rawSize":1,"compression":"zstd"}`, `"size"`},
		{"unknown compression", `{"v":1,"sha256":"` + good + `","size":1,"rawSize":1,"compression":"lz4"}`, `"compression"`},
		{"size mismatch without compression", `{"v":1,"sha256":"` + good + `","size":1,"rawSize":2,"compression":"none"}`, `"size"`},
		{"wrong type", `{"v":1,"sha256":5}`, "sha256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: []byte(tc.data)}
			_, err := c.Decode([]*commonpb.Payload{p})
			if !errors.Is(err, codec.ErrInvalidReference) {
				t.Fatalf("Decode error = %v, want ErrInvalidReference", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Decode error %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestDecodeMissingBlob(t *testing.T) {
	writer := newCodec(t, memstore.New(), codec.Options{})
	enc, err := writer.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 9))})
	if err != nil {
		t.Fatal(err)
	}
	reader := newCodec(t, memstore.New(), codec.Options{}) // an empty store
	_, err = reader.Decode(enc)
	if !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Decode of a reference to a missing blob: %v, want ErrNotFound", err)
	}
	var se *codec.StoreError
	if !errors.As(err, &se) || se.Namespace != "default" || se.Store != "memstore" || len(se.Digest) != 64 {
		t.Fatalf("error %v does not name namespace, digest and store", err)
	}
}

func TestGoldenReference(t *testing.T) {
	digest := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		file string
		ref  codec.Reference
	}{
		{"testdata/reference_v1.golden.json",
			codec.Reference{V: 1, SHA256: digest, Size: 1234, RawSize: 5678, Compression: "zstd", Encoding: "json/plain"}},
		{"testdata/reference_v2.golden.json",
			codec.Reference{V: 2, BLAKE3: digest, Size: 1234, RawSize: 5678, Compression: "zstd", Encoding: "json/plain"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p, err := tc.ref.Payload()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.file, p.Data)
			if got := string(p.Metadata["encoding"]); got != "json/longhaul-ref" {
				t.Fatalf("metadata encoding = %q", got)
			}
			back, err := codec.ParseReference(p)
			if err != nil || back != tc.ref {
				t.Fatalf("ParseReference(golden) = %+v, %v; want %+v", back, err, tc.ref)
			}
		})
	}
}

// TestGoldenEncodedReference pins what each Options.Hash writes for one payload: the
// reference version, the field and the digest (BLAKE3-256 and SHA-256 of the stored bytes,
// unkeyed), and the key the blob is stored under.
func TestGoldenEncodedReference(t *testing.T) {
	for _, tc := range []struct {
		hash      codec.Hash
		file, key string
	}{
		{codec.BLAKE3, "testdata/reference_v2_encoded.golden.json", "v2/default/blake3/"},
		{codec.SHA256, "testdata/reference_v1_encoded.golden.json", "v1/default/sha256/"},
	} {
		t.Run(string(tc.hash), func(t *testing.T) {
			store := memstore.New()
			c := newCodec(t, store, codec.Options{Hash: tc.hash, Compression: codec.NoCompression, Threshold: 1})
			enc, err := c.Encode([]*commonpb.Payload{payload([]byte("longhaul golden payload"))})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.file, enc[0].Data)
			ref, err := codec.ParseReference(enc[0])
			if err != nil {
				t.Fatal(err)
			}
			key, err := ref.Key("default")
			if err != nil || !strings.HasPrefix(key, tc.key) {
				t.Fatalf("Key = %q, %v; want it under %s", key, err, tc.key)
			}
			if _, err := store.Touch(context.Background(), key); err != nil {
				t.Fatalf("the blob is not under %s: %v", key, err)
			}
		})
	}
}

func TestParseGoldenFiles(t *testing.T) {
	// References written by earlier releases must keep decoding.
	for _, name := range []string{"testdata/reference_v1.golden.json", "testdata/reference_v1_none.json",
		"testdata/reference_v2.golden.json"} {
		data := readFile(t, name)
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: data}
		if _, err := codec.ParseReference(p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPassThroughForeignPayloads(t *testing.T) {
	c := newCodec(t, memstore.New(), codec.Options{})
	foreign := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/encrypted")}, Data: []byte{1, 2, 3}}
	out, err := c.Decode([]*commonpb.Payload{foreign})
	if err != nil || out[0] != foreign {
		t.Fatalf("Decode of a foreign payload: %v, %v; want it untouched", out, err)
	}
	// References are never offloaded again, even when over the threshold.
	c2 := newCodec(t, memstore.New(), codec.Options{Threshold: 10, InlineBudget: 10})
	enc, err := c2.Encode([]*commonpb.Payload{payload(randomBytes(2000, 1))})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c2.Encode(enc)
	if err != nil || again[0] != enc[0] {
		t.Fatalf("Encode of a reference re-offloaded it: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	c := newCodec(t, memstore.New(), codec.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.EncodeContext(ctx, []*commonpb.Payload{payload(randomBytes(1<<20, 1))})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("EncodeContext with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestCacheIsPerNamespace: codecs from WithNamespace share a cache, but a payload cached in
// one namespace is not served to another (which must find the blob under its own key).
func TestCacheIsPerNamespace(t *testing.T) {
	store := memstore.New()
	a := newCodec(t, store, codec.Options{Namespace: "team-a"})
	b, err := a.WithNamespace("team-b")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := a.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 21))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decode(enc); err != nil {
		t.Fatalf("own namespace: %v", err)
	}
	if _, err := b.Decode(enc); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("another namespace decoded team-a's cached payload: err = %v, want ErrNotFound", err)
	}
	if _, err := a.WithNamespace("../x"); !errors.Is(err, driver.ErrInvalidKey) {
		t.Fatalf("WithNamespace(\"../x\"): %v, want ErrInvalidKey", err)
	}
}
