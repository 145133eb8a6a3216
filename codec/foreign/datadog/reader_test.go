package datadog_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestDataDogReferences: v1 and v2 references decode through the service, or from a
// longhaul Store holding the same bytes; tampered or oversized data is ErrCorrupt.
func TestDataDogReferences(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	orig := payload(randomBytes(200<<10, 11))
	orig.Metadata["messageType"] = []byte("x.Y")
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{ddReader(t, datadog.Options{URL: svc.URL})}})
			before := svc.Gets()
			out := roundTripDecode(t, c, svc.Ref(version, "default", orig))
			if !proto.Equal(out, orig) {
				t.Fatal("decoded payload differs from the original")
			}
			if svc.Gets() != before+1 {
				t.Fatalf("%d GETs, want 1", svc.Gets()-before)
			}
		})
	}
	t.Run("from a store", func(t *testing.T) {
		store := memstore.New()
		sum := sha256.Sum256(orig.Data)
		key, _ := driver.Key("default", driver.SHA256, hex.EncodeToString(sum[:]))
		if _, err := store.Put(context.Background(), key, strings.NewReader(string(orig.Data)), int64(len(orig.Data))); err != nil {
			t.Fatal(err)
		}
		c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{Store: store})}})
		if out := roundTripDecode(t, c, svc.Ref("v2", "default", orig)); !proto.Equal(out, orig) {
			t.Fatal("decoded payload differs from the original")
		}
	})
	t.Run("tampered", func(t *testing.T) {
		svc.Tamper(true)
		defer svc.Tamper(false)
		c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: svc.URL})}})
		out, err := c.Decode([]*commonpb.Payload{svc.Ref("v2", "default", orig)})
		if !errors.Is(err, driver.ErrCorrupt) || out != nil {
			t.Fatalf("got %d payloads, %v; want ErrCorrupt", len(out), err)
		}
	})
	t.Run("over MaxSize", func(t *testing.T) {
		c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: svc.URL, MaxSize: 1 << 10})}})
		ref := svc.Ref("v2", "default", orig)
		// A reference that lies about the size must not get past MaxSize either.
		ref.Data = []byte(strings.Replace(string(ref.Data), `"size":204800`, `"size":10`, 1))
		if _, err := c.Decode([]*commonpb.Payload{ref}); !errors.Is(err, driver.ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	})
}

// TestDataDogBadReferences: malformed references are ErrInvalidReference; a blob the
// service does not have is ErrNotFound.
func TestDataDogBadReferences(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: svc.URL})}})
	mk := func(version, data string) *commonpb.Payload {
		return &commonpb.Payload{Metadata: map[string][]byte{"temporal.io/remote-codec": []byte(version)}, Data: []byte(data)}
	}
	hex64 := strings.Repeat("ab", 32)
	cases := []struct {
		name string
		p    *commonpb.Payload
		want error
	}{
		{"not JSON", mk("v2", "{"), codec.ErrInvalidReference},
		{"digest without sha256", mk("v2", `{"digest":"md5:00","key":"k","size":1}`), codec.ErrInvalidReference},
		{"short digest", mk("v1", `{"digest":"sha256:abc","size":1}`), codec.ErrInvalidReference},
		{"v2 without key", mk("v2", `{"digest":"sha256:`+hex64+`","size":1}`), codec.ErrInvalidReference},
		{"negative size", mk("v2", `{"digest":"sha256:`+hex64+`","key":"k","size":-1}`), codec.ErrInvalidReference},
		{"missing blob", mk("v2", `{"digest":"sha256:`+hex64+`","key":"/blobs/default/common/sha256:`+hex64+`/m","size":1}`), driver.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Decode([]*commonpb.Payload{tc.p}); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, ok, _ := ddReader(t, datadog.Options{URL: svc.URL}).Parse(codec.Candidate{Payload: mk("v3", "{}")}); ok {
		t.Fatal("recognized an unknown version")
	}
	for _, bad := range []datadog.Options{{}, {URL: "ftp://x"}, {URL: svc.URL, MaxSize: -1}} {
		if _, err := datadog.NewReader(bad); err == nil {
			t.Errorf("NewReader(%+v) accepted", bad)
		}
	}
}
