package payloadsvc

import (
	"encoding/json"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// v1Fixture is the history and blob directory that longhaul's v1 references (SHA-256)
// left, committed in package codec.
const v1Fixture = "../codec/testdata/v1fixture"

// TestV1FixtureThroughCodecServer: the references of the v1 fixture decode through
// /codec/decode of a service that writes v2 (BLAKE3), to the payloads a codec reading the
// same blobs returns, and none is left a reference.
func TestV1FixtureThroughCodecServer(t *testing.T) {
	hist, blobs := testenv.HistoryFixture(t, v1Fixture)
	fs, err := filestore.New(blobs)
	if err != nil {
		t.Fatal(err)
	}
	var refs []*commonpb.Payload
	for _, ev := range hist.Events {
		testenv.WalkPayloads(ev, func(p *commonpb.Payload) {
			var v struct{ V int }
			if codec.IsReference(p) && json.Unmarshal(p.Data, &v) == nil && v.V == 1 {
				refs = append(refs, p)
			}
		})
	}
	if len(refs) < 3 {
		t.Fatalf("%d v1 references in the fixture, want at least 3", len(refs))
	}
	svc := startService(t, fs, Options{})
	if h := svc.h.codecs.base.Options().Hash; h != codec.BLAKE3 {
		t.Fatalf("the service writes %s, want the default BLAKE3", h)
	}
	dec := svc.postPayloads(t, "/codec/default/decode", nil, refs...)
	direct, err := codec.New(fs, codec.Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := direct.Decode(refs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range refs {
		if codec.IsReference(dec[i]) || !proto.Equal(dec[i], want[i]) {
			t.Fatalf("payload %d: /codec/decode answered %d bytes (reference %v), want the %d-byte payload", i, proto.Size(dec[i]),
				codec.IsReference(dec[i]), proto.Size(want[i]))
		}
	}
}
