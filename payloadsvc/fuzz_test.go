package payloadsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// discardStore accepts every Put and keeps nothing, so encode fuzzing does not grow.
type discardStore struct{}

func (discardStore) Put(_ context.Context, _ string, src io.Reader, _ int64) (bool, error) {
	_, err := io.Copy(io.Discard, src)
	return err == nil, err
}
func (discardStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, driver.ErrNotFound
}
func (discardStore) Touch(context.Context, string) (driver.Info, error) {
	return driver.Info{}, driver.ErrNotFound
}

// fuzzHandler serves store with small limits and a small threshold, so short inputs
// reach the offload, fetch and preview paths.
func fuzzHandler(t testing.TB, store driver.Store) http.Handler {
	h, err := NewHandler(store, Options{
		MaxCodecBodyBytes: 64 << 10,
		PreviewBytes:      512,
		AllowedHosts:      []string{"example.com"}, // httptest.NewRequest's
		Logger:            slog.New(slog.DiscardHandler),
		Codec:             codec.Options{Threshold: 1 << 10, InlineBudget: 4 << 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// codecSeeds are request bodies worth starting from: valid, odd and broken.
func codecSeeds(f *testing.F, refs ...*commonpb.Payload) {
	small := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"a":1}`)}
	big := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: bytes.Repeat([]byte("xy"), 2<<10)}
	seeds := []string{
		``, `{}`, `[]`, `null`, `{"payloads":[]}`, `{"payloads":null}`, `{"payloads":[null]}`, `{"payloads":[{}]}`,
		`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IjQyIg=="}]}`,
		`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IjQyIg==","externalPayloads":[{"sizeBytes":"9"}],"future":1}],"x":[1,{"y":null}]}`,
		`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IjQyIg==","external_payloads":null}]}`,    // encoding/json form
		`{"payloads":[{"metadata":{"encoding":"anNvbi9sb25naGF1bC1yZWY="},"data":"eyJ2IjoxfQ=="}]}`,                 // ref without fields
		`{"payloads":[{"metadata":{"encoding":"anNvbi9sb25naGF1bC1yZWY="},"data":"bm90IGpzb24="}]}`,                 // ref not JSON
		`{"payloads":[{"metadata":{"encoding":"anNvbi9sb25naGF1bC1yZWY="},"data":"eyJ2IjoyLCJzaGEyNTYiOiIifQ=="}]}`, // ref v2
		`{"payloads":[{"data":"!!!"}]}`, `{"payloads":[{"data":1e999}]}`, `{"payloads":{"0":{}}}`, "\x00\xff{",
		string(payloadsJSON(f, small)), string(payloadsJSON(f, small, big, small)),
	}
	for _, r := range refs {
		seeds = append(seeds, string(payloadsJSON(f, r)), string(payloadsJSON(f, small, r, r)))
		legacy, _ := json.Marshal(commonpb.Payloads{Payloads: []*commonpb.Payload{r}}) // what the SDK's remote codec sends
		seeds = append(seeds, string(legacy))
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
}

// checkCodecAnswer holds for every answer: a known status, a JSON error body naming
// something, or as many payloads as were sent with the foreign ones untouched.
func checkCodecAnswer(t *testing.T, body []byte, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if !slices.Contains(allowed, rec.Code) {
		t.Fatalf("status %d for body %q: %s", rec.Code, short(body), short(rec.Body.Bytes()))
	}
	if rec.Code != http.StatusOK {
		var eb errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
			t.Fatalf("status %d with body %q, want {\"error\": ...}", rec.Code, short(rec.Body.Bytes()))
		}
		return
	}
	in, err := parsePayloads(body)
	if err != nil {
		t.Fatalf("200 for a body the parser refuses: %v", err)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not protojson Payloads: %v", err)
	}
	if len(out.Payloads) != len(in) {
		t.Fatalf("%d payloads in, %d out", len(in), len(out.Payloads))
	}
	for i, p := range in {
		if !codec.IsReference(p) && proto.Size(p) <= 1<<10 && !proto.Equal(p, out.Payloads[i]) {
			t.Fatalf("payload %d is not ours and small, yet it changed", i)
		}
	}
}

func serveCodec(h http.Handler, path string, body []byte, preview bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if preview {
		req.Header.Set(PreviewHeader, "1")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzDecodeRequest sends arbitrary bodies to /codec/{ns}/decode over a store holding
// two offloaded payloads, by reference v2 and v1: the service never panics or answers 5xx for its own reasons.
// Missing blobs are 404 and corrupt ones 502; the store here is never down.
func FuzzDecodeRequest(f *testing.F) {
	store := memstore.New()
	c, err := codec.New(store, codec.Options{Namespace: "fuzz", Threshold: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	ref, err := c.Offload(context.Background(), &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + strings.Repeat("fuzz ", 1000) + `"`)})
	if err != nil {
		f.Fatal(err)
	}
	v1, err := codec.New(store, codec.Options{Namespace: "fuzz", Threshold: 1 << 10, Hash: codec.SHA256})
	if err != nil {
		f.Fatal(err)
	}
	refV1, err := v1.Offload(context.Background(), &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + strings.Repeat("v1 ", 1000) + `"`)})
	if err != nil {
		f.Fatal(err)
	}
	missing, _ := codec.Reference{V: 1, SHA256: strings.Repeat("ab", 32), Size: 10, RawSize: 10, Compression: "none"}.Payload()
	missingV2, _ := codec.Reference{V: 2, BLAKE3: strings.Repeat("ab", 32), Size: 10, RawSize: 10, Compression: "none"}.Payload()
	codecSeeds(f, ref, refV1, missing, missingV2)
	h := fuzzHandler(f, store)
	f.Fuzz(func(t *testing.T, body []byte, preview bool) {
		rec := serveCodec(h, "/codec/fuzz/decode", body, preview)
		checkCodecAnswer(t, body, rec, 200, 400, 404, 413, 502)
	})
}

// FuzzEncodeRequest sends arbitrary bodies to /codec/{ns}/encode: payloads over 1 KiB
// are offloaded (to a store that keeps nothing), the rest pass through.
func FuzzEncodeRequest(f *testing.F) {
	codecSeeds(f)
	h := fuzzHandler(f, discardStore{})
	f.Fuzz(func(t *testing.T, body []byte, _ bool) {
		rec := serveCodec(h, "/codec/fuzz/encode", body, false)
		checkCodecAnswer(t, body, rec, 200, 400, 413)
	})
}

// FuzzReferenceSizes decodes references (v1 or v2) whose size and rawSize claims are
// anything, naming a stored blob that is anything (zstd or not): the answer is a status that
// names the problem, and one request never allocates more than a small multiple of
// the blob limit, whatever it claims.
func FuzzReferenceSizes(f *testing.F) {
	var z bytes.Buffer
	enc, _ := zstd.NewWriter(&z)
	_, _ = enc.Write(make([]byte, 4<<20)) // a bomb: 4 MiB of zeros in a few hundred bytes
	_ = enc.Close()
	for _, s := range []struct {
		size, raw int64
		zstd      bool
		blob      []byte
	}{
		{5, 5, false, []byte("hello")},
		{1 << 30, 1 << 30, false, []byte("hello")},
		{4 << 30, 4 << 30, false, []byte("hello")},
		{1<<63 - 1, 1<<63 - 1, true, []byte("hello")},
		{-1, 5, false, []byte("hello")},
		{int64(z.Len()), 100, true, z.Bytes()},
		{int64(z.Len()), 4 << 20, true, z.Bytes()},
		{int64(z.Len()), 1 << 40, true, z.Bytes()},
		{0, 0, false, nil},
	} {
		f.Add(s.size, s.raw, s.zstd, s.blob, false)
		f.Add(s.size, s.raw, s.zstd, s.blob, true)
	}
	const maxBlob = 1 << 20
	store := memstore.New()
	h, err := NewHandler(store, Options{
		MaxBlobBytes:     maxBlob,
		MaxInflightBytes: 8 * maxBlob,
		AllowedHosts:     []string{"example.com"},
		Logger:           slog.New(slog.DiscardHandler),
		Codec:            codec.Options{CacheBytes: -1},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, size, raw int64, useZstd bool, blob []byte, v2 bool) {
		ref := map[string]any{"v": 1, "sha256": sha256Hex(blob)}
		key, _ := driver.Key("fuzz", driver.SHA256, sha256Hex(blob))
		if v2 {
			ref = map[string]any{"v": 2, "blake3": blake3Hex(blob)}
			key, _ = driver.Key("fuzz", driver.BLAKE3, blake3Hex(blob))
		}
		if _, err := store.Put(context.Background(), key, bytes.NewReader(blob), int64(len(blob))); err != nil {
			t.Fatal(err)
		}
		comp := codec.NoCompression
		if useZstd {
			comp = codec.Zstd
		}
		ref["size"], ref["rawSize"], ref["compression"] = size, raw, comp
		data, _ := json.Marshal(ref)
		body := payloadsJSON(t, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: data})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rec := serveCodec(h, "/codec/fuzz/decode", body, false)
		runtime.ReadMemStats(&after)
		checkCodecAnswer(t, body, rec, 200, 400, 413, 502)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16*maxBlob {
			t.Fatalf("size %d rawSize %d (blob of %d bytes): the request allocated %d bytes", size, raw, len(blob), grew)
		}
	})
}

// FuzzBlobPut PUTs arbitrary bodies under arbitrary digests of both hashes, with or
// without a SHA-256 chain header: a PUT creates a blob only under the digest of its body
// by the path's hash, answers 200 only for a blob the store has, and refuses the rest
// with 400; nothing is ever stored under a digest its bytes do not have.
func FuzzBlobPut(f *testing.F) {
	hello, big := []byte("hello"), bytes.Repeat([]byte("0123456789abcdef"), 100<<10) // big: 1.6 MiB, over a batch
	for _, s := range []struct {
		blake3       bool
		digest, body string
		chain        string
	}{
		{true, blake3Hex(hello), "hello", ""},
		{false, sha256Hex(hello), "hello", ""},
		{true, sha256Hex(hello), "hello", ""}, // a sha256 digest under the blake3 path
		{false, blake3Hex(hello), "hello", ""},
		{true, strings.ToUpper(blake3Hex(hello)), "hello", ""},
		{true, blake3Hex(nil), "", ""},
		{true, blake3Hex(hello), "", ""},
		{true, blake3Hex(big), string(big), ""},
		{true, blake3Hex(big), string(big[1:]), ""},
		{true, blake3Hex(big), string(big), chainOf(big)},
		{false, sha256Hex(big), string(big), chainOf(big)},
		{false, sha256Hex(big), string(big), chainOf(big[1:])},
		{true, "../../etc/passwd", "hello", ""},
		{true, "", "hello", ""},
	} {
		f.Add(s.blake3, s.digest, []byte(s.body), s.chain)
	}
	store := memstore.New()
	h := fuzzHandler(f, store)
	f.Fuzz(func(t *testing.T, useBlake3 bool, digest string, body []byte, chain string) {
		alg, want := driver.SHA256, sha256Hex(body)
		if useBlake3 {
			alg, want = driver.BLAKE3, blake3Hex(body)
		}
		path := "/v1/namespaces/fuzz/blobs/" + alg + "/" + url.PathEscape(digest)
		key, keyErr := driver.Key("fuzz", alg, digest)
		_, had := store.Touch(context.Background(), key)
		req := httptest.NewRequest(http.MethodPut, path, bytes.NewReader(body))
		if chain != "" {
			req.Header.Set(sha256chain.Header, chain)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusCreated && digest == want && had != nil:
		case rec.Code == http.StatusOK && had == nil:
		case rec.Code == http.StatusBadRequest:
			var eb errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Fatalf("400 with body %q, want {\"error\": ...}", short(rec.Body.Bytes()))
			}
		default:
			t.Fatalf("PUT %s of %d bytes (%s %s): %d %s", path, len(body), alg, want, rec.Code, short(rec.Body.Bytes()))
		}
		if _, err := store.Touch(context.Background(), key); keyErr == nil && digest != want && had != nil && err == nil {
			t.Fatalf("%d bytes stored under %s, which is not their %s (%s)", len(body), digest, alg, want)
		}
	})
}
