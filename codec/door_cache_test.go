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
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/hostile"
)

// Issue 20's worker cases: a worker's codec reads blobs that anyone with write access to
// the store may have planted, so what it keeps and what it parses must be bounded by its
// own limits, not by the blob.

// zstdStored stores serialized zstd-compressed for namespace "default" and returns the
// reference a forger would put in history for it.
func zstdStored(t *testing.T, s codec.Store, serialized []byte) *commonpb.Payload {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.EncodeAll(serialized, nil)
	return plant(t, s, blob, int64(len(blob)), int64(len(serialized)), "zstd")
}

// TestDoorWorkerCacheChargedForWhatItKeeps (issue 20, "the decode cache holds bytes it
// does not count"): 16 different blobs of a few KiB, each a tiny Data plus a 16 MiB
// unknown field, decoded by a worker whose cache limit is 8 MiB: afterwards the live heap
// has grown by at most the cache limit plus 16 MiB.
func TestDoorWorkerCacheChargedForWhatItKeeps(t *testing.T) {
	const cacheBytes = 8 << 20
	store := memstore.New()
	c, err := codec.New(store, codec.Options{CacheBytes: cacheBytes})
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]*commonpb.Payload, 16)
	for i := range refs {
		tiny, err := proto.Marshal(&commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: []byte(fmt.Sprintf("tiny-%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = zstdStored(t, store, hostile.WithUnknownField(tiny, 16<<20))
	}
	base := hostile.HeapAfterGC()
	ctx := context.Background()
	for i, ref := range refs {
		out, err := c.DecodeContext(ctx, []*commonpb.Payload{ref})
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		if got := string(out[0].GetData()); got != fmt.Sprintf("tiny-%d", i) {
			t.Fatalf("decode %d: data %q", i, got)
		}
	}
	grown := hostile.HeapAfterGC() - base
	runtime.KeepAlive(c)
	t.Logf("worker heap after the cache attack: +%d MiB (cache limit %d MiB, target <= %d MiB)", grown>>20, cacheBytes>>20, (cacheBytes+16<<20)>>20)
	if grown > cacheBytes+16<<20 {
		t.Errorf("the worker's heap grew by %d MiB after 16 decodes, want at most the 8 MiB cache limit plus 16 MiB", grown>>20)
	}
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
	if !errors.Is(err, codec.ErrCorrupt) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("decode of a blob with 1.8M metadata entries: %v; want ErrCorrupt naming the metadata cap", err)
	}
}
