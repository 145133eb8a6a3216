package codec_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/hostile"
)

// Issue 20's worker cases: a worker's codec reads blobs that anyone with write access to
// the store may have planted, so what it keeps and what it parses must be bounded by its
// own limits, not by the blob.

// zstdStored stores serialized zstd-compressed for namespace "default" and returns the
// reference a forger would put in history for it.
func zstdStored(t *testing.T, s driver.Store, serialized []byte) *commonpb.Payload {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.EncodeAll(serialized, nil)
	return plant(t, s, codec.BLAKE3, blob, int64(len(blob)), int64(len(serialized)), "zstd")
}

// TestDoorWorkerCacheChargedForWhatItKeeps (issue 20, "the decode cache holds bytes it
// does not count"): blobs of a few KiB, each a tiny Data plus a large unknown field (16
// MiB; and 250 KiB, under any cap on what a payload holds besides its data), decoded by a
// worker whose cache limit is 8 MiB: each decodes to its tiny Data or is refused as
// ErrCorrupt, and afterwards the live heap has grown by at most the cache limit plus 16 MiB.
func TestDoorWorkerCacheChargedForWhatItKeeps(t *testing.T) {
	const cacheBytes = 8 << 20
	for _, tc := range []struct {
		name    string
		blobs   int
		unknown int
	}{
		{"16 MiB unknown field", 16, 16 << 20},
		{"250 KiB unknown field", 160, 250 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			c, err := codec.New(store, codec.Options{CacheBytes: cacheBytes})
			if err != nil {
				t.Fatal(err)
			}
			refs := make([]*commonpb.Payload, tc.blobs)
			for i := range refs {
				md := map[string][]byte{"encoding": []byte("binary/plain")}
				tiny, err := proto.Marshal(&commonpb.Payload{Metadata: md, Data: []byte(fmt.Sprintf("tiny-%d", i))})
				if err != nil {
					t.Fatal(err)
				}
				refs[i] = zstdStored(t, store, hostile.WithUnknownField(tiny, tc.unknown))
			}
			base := hostile.HeapAfterGC()
			refused := decodeTiny(t, c, refs)
			grown := hostile.HeapAfterGC() - base
			runtime.KeepAlive(c)
			t.Logf("worker heap after %d decodes: +%d MiB (cache limit %d MiB, target <= %d MiB; %d refused as corrupt)",
				tc.blobs, grown>>20, cacheBytes>>20, (cacheBytes+16<<20)>>20, refused)
			if grown > cacheBytes+16<<20 {
				t.Errorf("the worker's heap grew by %d MiB after %d decodes, want at most the 8 MiB cache limit plus 16 MiB", grown>>20, tc.blobs)
			}
		})
	}
}

// decodeTiny decodes each of refs, which stand for "tiny-<i>", and returns how many were
// refused as ErrCorrupt (as safe as keeping only their Data).
func decodeTiny(t *testing.T, c *codec.Codec, refs []*commonpb.Payload) (refused int) {
	t.Helper()
	for i, ref := range refs {
		out, err := c.DecodeContext(context.Background(), []*commonpb.Payload{ref})
		switch {
		case errors.Is(err, driver.ErrCorrupt):
			refused++
		case err != nil:
			t.Fatalf("decode %d: %v; want the payload or ErrCorrupt", i, err)
		case string(out[0].GetData()) != fmt.Sprintf("tiny-%d", i):
			t.Fatalf("decode %d: data %q", i, out[0].GetData())
		}
	}
	return refused
}

// TestDoorWorkerStoredMetadataCapped (issue 20, "metadata amplification"): a stored blob
// whose payload holds 1.8 million metadata entries is ErrCorrupt naming the metadata cap,
// as a request with that many would be refused.
func TestDoorWorkerStoredMetadataCapped(t *testing.T) {
	store := memstore.New()
	c, err := codec.New(store, codec.Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	ref := zstdStored(t, store, hostile.ManyMetadata(1_800_000))
	_, err = c.DecodeContext(context.Background(), []*commonpb.Payload{ref})
	if !errors.Is(err, driver.ErrCorrupt) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("decode of a blob with 1.8M metadata entries: %v; want ErrCorrupt naming the metadata cap", err)
	}
}
