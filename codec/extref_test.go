package codec_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestParseStorageReference reads both External Storage reference formats (the SDK's
// protojson one and the prerelease legacy one) and refuses malformed or oversized ones.
func TestParseStorageReference(t *testing.T) {
	claim := map[string]string{"bucket": "b", "key": "v0/d/sha256/x"}
	current, err := codec.StorageReference{DriverName: "aws.s3driver", ClaimData: claim}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	legacy := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/external-storage-reference")},
		Data: []byte(`{"driver_name":"aws.s3driver","driver_claim":{"claim_data":{"bucket":"b","key":"v0/d/sha256/x"}}}`)}
	for name, p := range map[string]*commonpb.Payload{"current": current, "legacy": legacy} {
		r, err := codec.ParseStorageReference(p)
		if err != nil || r.DriverName != "aws.s3driver" || !maps.Equal(r.ClaimData, claim) {
			t.Errorf("%s: %+v, %v", name, r, err)
		}
	}
	bad := map[string]*commonpb.Payload{
		"not a reference": payload([]byte("x")),
		"other message":   {Metadata: map[string][]byte{"encoding": []byte("json/protobuf"), "messageType": []byte("x.Y")}, Data: []byte("{}")},
		"not JSON":        {Metadata: current.Metadata, Data: []byte("{")},
		"oversized":       {Metadata: current.Metadata, Data: []byte(`{"driverName":"` + strings.Repeat("a", 70<<10) + `"}`)},
	}
	for name, p := range bad {
		if _, err := codec.ParseStorageReference(p); !errors.Is(err, codec.ErrInvalidReference) {
			t.Errorf("%s: %v, want ErrInvalidReference", name, err)
		}
	}
}

// TestDecodesExtStoreReference: the codec decodes an External Storage reference with an
// extstore claim (what the codec server sees) for the claim's namespace only.
func TestDecodesExtStoreReference(t *testing.T) {
	store := memstore.New()
	c := newCodec(t, store, codec.Options{Namespace: "prod"})
	orig := payload(randomBytes(300<<10, 9))
	refs, err := c.Encode([]*commonpb.Payload{orig})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := codec.ParseReference(refs[0])
	p, err := codec.StorageReference{DriverName: "longhaul", ClaimData: ref.Claim("prod")}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	out, err := newCodec(t, store, codec.Options{Namespace: "prod", CacheBytes: -1}).Decode([]*commonpb.Payload{p})
	if err != nil || !proto.Equal(out[0], orig) {
		t.Fatalf("decode: %v", err)
	}
	if _, err := newCodec(t, store, codec.Options{Namespace: "qa"}).Decode([]*commonpb.Payload{p}); !errors.Is(err, codec.ErrInvalidReference) {
		t.Fatalf("decode for another namespace: %v, want ErrInvalidReference", err)
	}
}
