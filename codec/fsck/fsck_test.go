package fsck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
)

// blob puts data into s under its key of algorithm (driver.SHA256: a v1 reference,
// driver.BLAKE3: v2) and returns the reference and the key.
func blob(t *testing.T, s driver.Store, algorithm string, data []byte) (codec.Reference, string) {
	t.Helper()
	h, err := contenthash.New(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(data)
	ref := withDigest(codec.Reference{Size: int64(len(data)), RawSize: int64(len(data)), Compression: codec.NoCompression,
		Encoding: "binary/plain"}, algorithm, contenthash.Hex(h))
	key, err := ref.Key("ns")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	return ref, key
}

// withDigest returns r naming digest of algorithm: v1 with a SHA-256, v2 with a BLAKE3.
func withDigest(r codec.Reference, algorithm, digest string) codec.Reference {
	r.V, r.SHA256, r.BLAKE3 = 1, digest, ""
	if algorithm == driver.BLAKE3 {
		r.V, r.SHA256, r.BLAKE3 = 2, "", digest
	}
	return r
}

// walkCodec is the codec a walk of namespace "ns" over s parses and checks with.
func walkCodec(t *testing.T, s driver.Store) *codec.Codec {
	t.Helper()
	w, err := newWalker(nil, Options{Namespace: "ns", Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return w.codec
}

// checkBlob tells a good blob from a missing, a short and a corrupt one, for v1 and v2
// references alike; only --verify reads the bytes.
func TestCheckBlob(t *testing.T) {
	for _, alg := range []string{driver.SHA256, driver.BLAKE3} {
		t.Run(alg, func(t *testing.T) { testCheckBlob(t, alg) })
	}
}

func testCheckBlob(t *testing.T, alg string) {
	s := memstore.New()
	c := walkCodec(t, s)
	good, _ := blob(t, s, alg, []byte("the bytes"))
	longer := good
	longer.Size, longer.RawSize = good.Size+1, good.RawSize+1
	tests := []struct {
		name   string
		ref    codec.Reference
		verify bool
		want   string
	}{
		{"good", good, true, ""},
		{"missing", withDigest(good, alg, hex.EncodeToString(make([]byte, 32))), false, StatusMissing},
		{"length differs", longer, false, StatusCorrupt},
		{"digest differs, not verified", withDigest(good, alg, sha256hex("other")), false, StatusMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := tt.ref.Payload()
			r, ok, err := parseRef(c, p)
			if !ok || err != nil {
				t.Fatalf("parseRef: %v", err)
			}
			status, detail := checkBlob(context.Background(), c, r, tt.verify)
			if status != tt.want {
				t.Errorf("status %q (%s), want %q", status, detail, tt.want)
			}
		})
	}
	// A blob whose bytes were replaced under its key: only --verify sees it.
	key, _ := good.Key("ns")
	tampered := memstore.New()
	if _, err := tampered.Put(context.Background(), key, bytes.NewReader([]byte("the bytez")), good.Size); err != nil {
		t.Fatal(err)
	}
	tc := walkCodec(t, tampered)
	p, _ := good.Payload()
	r, _, _ := parseRef(tc, p)
	for verify, want := range map[bool]string{false: "", true: StatusCorrupt} {
		if status, detail := checkBlob(context.Background(), tc, r, verify); status != want {
			t.Errorf("tampered, verify %v: status %q (%s), want %q", verify, status, detail, want)
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseRef recognizes the codec's references and claims with the codec's parsers, and
// reports a reference that does not parse.
func TestParseRef(t *testing.T) {
	ref, key := blob(t, memstore.New(), driver.SHA256, []byte("x"))
	own, _ := ref.Payload()
	claim, _ := codec.StorageReference{DriverName: "longhaul", ClaimData: ref.Claim("ns")}.Payload()
	ref2, key2 := blob(t, memstore.New(), driver.BLAKE3, []byte("x"))
	own2, _ := ref2.Payload()
	claim2, _ := codec.StorageReference{DriverName: "longhaul", ClaimData: ref2.Claim("ns")}.Payload()
	broken := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: []byte(`{"v":1}`)}
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"hi"`)}
	tests := []struct {
		name    string
		p       *commonpb.Payload
		ok      bool
		kind    string
		key     string
		invalid bool
	}{
		{"reference", own, true, KindLonghaul, key, false},
		{"claim", claim, true, KindClaim, key, false},
		{"v2 reference", own2, true, KindLonghaul, key2, false},
		{"v2 claim", claim2, true, KindClaim, key2, false},
		{"broken reference", broken, true, KindLonghaul, "", true},
		{"user data", plain, false, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok, err := parseRef(walkCodec(t, memstore.New()), tt.p)
			if ok != tt.ok || r.kind != tt.kind || (tt.key != "" && r.key != tt.key) || (err != nil) != tt.invalid {
				t.Errorf("got %+v, %t, %v", r, ok, err)
			}
			if tt.invalid && !errors.Is(err, codec.ErrInvalidReference) {
				t.Errorf("error %v is not ErrInvalidReference", err)
			}
		})
	}
}

// A state file round-trips, is replaced atomically, and refuses another walk.
func TestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := LoadState(path)
	if err != nil || st.Workflows != 0 {
		t.Fatalf("fresh state: %+v, %v", st, err)
	}
	st.Namespace, st.Query, st.Workflows, st.NextPageToken = "ns", "q", 7, []byte{1, 2}
	st.Problems = map[string]*Problem{"k": {Key: "k", Status: StatusMissing, Occurrences: []Occurrence{{WorkflowID: "w", EventID: 1}}}}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadState(path)
	if err != nil || back.Workflows != 7 || !bytes.Equal(back.NextPageToken, []byte{1,
		2}) || back.Problems["k"].Occurrences[0].WorkflowID != "w" {
		t.Fatalf("loaded %+v, %v", back, err)
	}
	if matches, _ := filepath.Glob(path + ".tmp*"); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
	err = back.matches(Options{Namespace: "ns", Query: "other"})
	if !errors.Is(err, ErrStateMismatch) {
		t.Errorf("another query: %v, want ErrStateMismatch", err)
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no store", Options{Namespace: "ns"}},
		{"bad namespace", Options{Namespace: "../x", Store: memstore.New()}},
		{"negative concurrency", Options{Namespace: "ns", Store: memstore.New(), Concurrency: -1}},
	}
	for _, tt := range tests {
		if _, err := Run(context.Background(), nil, tt.opts); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
