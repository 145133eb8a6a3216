package payloadsvc

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestCodecServerBothReferenceVersions: workers offload through the blob API with
// references v2 (BLAKE3, the default) and v1 (SHA256), each blob under its hash's path;
// /codec/decode restores both whichever hash the service's own codec writes, and its
// encode writes references of its Options.Codec.Hash.
func TestCodecServerBothReferenceVersions(t *testing.T) {
	store := memstore.New()
	svc := startService(t, store, Options{})
	v1svc := startService(t, store, Options{Codec: codec.Options{Hash: codec.SHA256}})
	ctx := testCtx(t, time.Minute)
	var refs, originals []*commonpb.Payload
	for _, tc := range []struct {
		hash    codec.Hash
		version int
	}{{codec.BLAKE3, 2}, {codec.SHA256, 1}} {
		worker, err := codec.New(svc.client(t, blobclient.Options{}), codec.Options{Hash: tc.hash, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		in := jsonPayload(t, strings.Repeat(string(tc.hash)+" ", 200<<10))
		enc, err := worker.EncodeContext(ctx, []*commonpb.Payload{in})
		if err != nil {
			t.Fatalf("%s worker: encode through the service: %v", tc.hash, err)
		}
		ref, err := codec.ParseReference(enc[0])
		if err != nil || ref.V != tc.version {
			t.Fatalf("%s worker wrote %+v, %v; want a reference v%d", tc.hash, ref, err, tc.version)
		}
		path := "/v1/namespaces/default/blobs/" + string(tc.hash) + "/" + ref.BLAKE3 + ref.SHA256
		if status, hdr, _ := svc.do(t, "HEAD", path, nil, nil); status != 200 || hdr.Get("Content-Length") != strconv.FormatInt(ref.Size, 10) {
			t.Fatalf("HEAD %s: %d, Content-Length %q; want 200, %d", path, status, hdr.Get("Content-Length"), ref.Size)
		}
		refs, originals = append(refs, enc[0]), append(originals, in)
	}
	for name, s := range map[string]*service{"blake3 service": svc, "sha256 service": v1svc} {
		dec := s.postPayloads(t, "/codec/default/decode", nil, refs...)
		for i := range originals {
			if !proto.Equal(dec[i], originals[i]) {
				t.Fatalf("%s: reference v%d did not round-trip through /codec/decode", name, 2-i)
			}
		}
	}
	big := jsonPayload(t, strings.Repeat("encode ", 200<<10))
	for s, version := range map[*service]int{svc: 2, v1svc: 1} {
		enc := s.postPayloads(t, "/codec/default/encode", nil, big)
		if ref, err := codec.ParseReference(enc[0]); err != nil || ref.V != version {
			t.Fatalf("/codec/encode wrote %+v, %v; want a reference v%d", ref, err, version)
		}
		if dec := s.postPayloads(t, "/codec/default/decode", nil, enc...); !proto.Equal(dec[0], big) {
			t.Fatalf("reference v%d from /codec/encode did not round-trip", version)
		}
	}
}
