package extstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

var update = flag.Bool("update", false, "rewrite golden files")

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), 2}).Read(b)
	return b
}

func payload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
}

// newDriver returns a driver over s; New fails only on invalid Options.
func newDriver(t testing.TB, s driver.Store, opts extstore.Options) *extstore.Driver {
	t.Helper()
	d, err := extstore.New(s, opts)
	check(t, err)
	return d
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func storeCtx(ns string) converter.StorageDriverStoreContext {
	return converter.StorageDriverStoreContext{Context: context.Background(),
		Target: converter.StorageDriverWorkflowInfo{Namespace: ns, WorkflowType: "W", WorkflowID: "id", RunID: "run"}}
}

func retrieveCtx() converter.StorageDriverRetrieveContext {
	return converter.StorageDriverRetrieveContext{Context: context.Background()}
}

// TestRoundTrip stores payloads of several sizes in one call and retrieves them intact;
// the blobs are under the target's namespace, where the codec would put them.
func TestRoundTrip(t *testing.T) {
	store := memstore.New()
	d := newDriver(t, store, extstore.Options{})
	in := []*commonpb.Payload{
		payload(randomBytes(300<<10, 1)),
		payload(bytes.Repeat([]byte("compressible "), 50<<10)),
		payload(nil),
		payload(randomBytes(3<<20, 2)),
	}
	claims, err := d.Store(storeCtx("prod"), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != len(in) {
		t.Fatalf("%d claims for %d payloads", len(claims), len(in))
	}
	if got := claims[1].ClaimData["compression"]; got != "zstd" {
		t.Errorf("compressible payload stored with compression %q", got)
	}
	if got := claims[0].ClaimData["compression"]; got != "none" {
		t.Errorf("random payload stored with compression %q", got)
	}
	for i, cl := range claims {
		key, err := driver.Key("prod", cl.ClaimData["hash"], cl.ClaimData["digest"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Touch(context.Background(), key); err != nil {
			t.Errorf("claim %d: no blob at %s: %v", i, key, err)
		}
	}
	out, err := newDriver(t, store, extstore.Options{}).Retrieve(retrieveCtx(), claims)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(in[i], out[i]) {
			t.Errorf("payload %d changed in the round trip", i)
		}
	}
}

// TestSharesBlobsWithCodec: the codec and the driver give one payload one blob, so a team
// switches between them without moving data, and each reads what the other wrote.
func TestSharesBlobsWithCodec(t *testing.T) {
	store := memstore.New()
	c, err := codec.New(store, codec.Options{Namespace: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	p := payload(bytes.Repeat([]byte("shared "), 100<<10))
	refs, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseReference(refs[0])
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, store, extstore.Options{})
	claims, err := d.Store(storeCtx("prod"), []*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	if got := claims[0].ClaimData; !maps.Equal(got, ref.Claim("prod")) {
		t.Fatalf("driver claim %v, codec reference %+v: not the same blob", got, ref)
	}
	if s := d.Stats(); s.BlobsStored != 0 || s.DedupeHits != 1 {
		t.Fatalf("driver stored the codec's blob again: %+v", s)
	}
	// The codec (e.g. the codec server) decodes the driver's claim, and the driver reads
	// the codec's blob.
	back, err := c.ResolveStorage(context.Background(), codec.StorageReference{DriverName: extstore.DefaultName, ClaimData: claims[0].ClaimData})
	if err != nil || !proto.Equal(back, p) {
		t.Fatalf("codec resolving the driver's claim: %v", err)
	}
}

// TestDedupe: the same payload stored by two workflows is one blob; the second Store
// reuses it (and refreshes its age via the store) instead of writing.
func TestDedupe(t *testing.T) {
	store := memstore.New()
	d := newDriver(t, store, extstore.Options{})
	p := payload(randomBytes(1<<20, 3))
	for i := 0; i < 3; i++ {
		if _, err := d.Store(storeCtx("prod"), []*commonpb.Payload{p}); err != nil {
			t.Fatal(err)
		}
	}
	if s := d.Stats(); s.BlobsStored != 1 || s.DedupeHits != 2 {
		t.Fatalf("want 1 blob stored and 2 reuses, got %+v", s)
	}
}

// TestNamespaceFallback: a target naming no namespace uses Options.Codec.Namespace.
func TestNamespaceFallback(t *testing.T) {
	d := newDriver(t, memstore.New(), extstore.Options{Codec: codec.Options{Namespace: "fallback"}})
	claims, err := d.Store(converter.StorageDriverStoreContext{Context: context.Background()}, []*commonpb.Payload{payload([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	if ns := claims[0].ClaimData["namespace"]; ns != "fallback" {
		t.Fatalf("namespace %q, want the fallback", ns)
	}
}

// TestTamperedBlob: a blob whose bytes changed is ErrCorrupt, never wrong bytes.
func TestTamperedBlob(t *testing.T) {
	store := memstore.New()
	d := newDriver(t, store, extstore.Options{Codec: codec.Options{CacheBytes: -1}})
	claims, err := d.Store(storeCtx("prod"), []*commonpb.Payload{payload(randomBytes(400<<10, 4))})
	if err != nil {
		t.Fatal(err)
	}
	d = newDriver(t, tamperStore{store}, extstore.Options{Codec: codec.Options{CacheBytes: -1}})
	out, err := d.Retrieve(retrieveCtx(), claims)
	if !errors.Is(err, driver.ErrCorrupt) || out != nil {
		t.Fatalf("tampered blob: got %d payloads, err %v; want ErrCorrupt", len(out), err)
	}
}

// TestBadClaims: malformed claims are ErrInvalidReference naming the field; a missing
// blob is ErrNotFound.
func TestBadClaims(t *testing.T) {
	d := newDriver(t, memstore.New(), extstore.Options{})
	good := codec.Reference{V: 1, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Size: 10, RawSize: 10, Compression: "none"}.Claim("prod")
	with := func(k, v string) map[string]string {
		m := maps.Clone(good)
		if v == "<delete>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name  string
		claim map[string]string
		want  error
	}{
		{"not ours", map[string]string{"bucket": "b", "key": "k"}, codec.ErrInvalidReference},
		{"future version", with("longhaul", "2"), codec.ErrInvalidReference},
		{"bad namespace", with("namespace", "../etc"), codec.ErrInvalidReference},
		{"no namespace", with("namespace", "<delete>"), codec.ErrInvalidReference},
		{"bad digest", with("sha256", "ABC"), codec.ErrInvalidReference},
		{"bad size", with("size", "ten"), codec.ErrInvalidReference},
		{"negative raw size", with("rawSize", "-1"), codec.ErrInvalidReference},
		{"bad compression", with("compression", "gzip"), codec.ErrInvalidReference},
		{"missing blob", good, driver.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Retrieve(retrieveCtx(), []converter.StorageDriverClaim{{ClaimData: tc.claim}})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestClaimGolden pins the claim formats (version 1 for SHA256, version 2 for BLAKE3) and
// checks the pinned claims keep decoding.
func TestClaimGolden(t *testing.T) {
	cases := []struct {
		file string
		hash codec.Hash
		p    *commonpb.Payload
	}{
		{"claim_v1.golden.json", codec.SHA256, payload(bytes.Repeat([]byte("longhaul "), 40<<10))},
		{"claim_v1_none.golden.json", codec.SHA256, payload(randomBytes(300<<10, 5))},
		{"claim_v2.golden.json", codec.BLAKE3, payload(bytes.Repeat([]byte("longhaul "), 40<<10))},
		{"claim_v2_none.golden.json", "", payload(randomBytes(300<<10, 5))},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			store := memstore.New()
			d := newDriver(t, store, extstore.Options{Codec: codec.Options{Hash: tc.hash}})
			claims, err := d.Store(storeCtx("default"), []*commonpb.Payload{tc.p})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(claims[0].ClaimData, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(name, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Fatalf("%s differs (a format change needs a new version):\n got: %s\nwant: %s", name, got, want)
			}
			var pinned map[string]string
			if err := json.Unmarshal(want, &pinned); err != nil {
				t.Fatal(err)
			}
			out, err := d.Retrieve(retrieveCtx(), []converter.StorageDriverClaim{{ClaimData: pinned}})
			if err != nil || !proto.Equal(out[0], tc.p) {
				t.Fatalf("pinned claim does not decode: %v", err)
			}
		})
	}
}

// TestUsesLimiter: every store and retrieve operation runs inside the SDK's limiter.
func TestUsesLimiter(t *testing.T) {
	d := newDriver(t, memstore.New(), extstore.Options{})
	ps := []*commonpb.Payload{payload([]byte("a")), payload([]byte("b")), payload([]byte("c"))}
	sl := &countingLimiter[*commonpb.Payload]{}
	sc := storeCtx("prod")
	sc.Limiter = sl
	claims, err := d.Store(sc, ps)
	if err != nil {
		t.Fatal(err)
	}
	rl := &countingLimiter[converter.StorageDriverClaim]{}
	if _, err := d.Retrieve(converter.StorageDriverRetrieveContext{Context: context.Background(), Limiter: rl}, claims); err != nil {
		t.Fatal(err)
	}
	if sl.n.Load() != 3 || rl.n.Load() != 3 {
		t.Fatalf("permits: store %d, retrieve %d; want 3 each", sl.n.Load(), rl.n.Load())
	}
}
