package codec_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// Issue 20's worker cases: a worker's codec reads blobs that anyone with write access to
// the store may have planted, so what it keeps and what it parses must be bounded by its
// own limits, not by the blob.

// zstdStored stores serialized zstd-compressed in s for namespace "default" and returns
// the reference a forger would put in history for it.
func zstdStored(t *testing.T, s codec.Store, serialized []byte) *commonpb.Payload {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.EncodeAll(serialized, nil)
	sum := sha256.Sum256(blob)
	digest := hex.EncodeToString(sum[:])
	key, err := codec.BlobKey("default", digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), key, bytes.NewReader(blob), int64(len(blob))); err != nil {
		t.Fatal(err)
	}
	p, err := codec.Reference{V: codec.RefVersion, SHA256: digest, Size: int64(len(blob)), RawSize: int64(len(serialized)), Compression: "zstd"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
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
		tiny = protowire.AppendTag(tiny, 15, protowire.BytesType)
		refs[i] = zstdStored(t, store, protowire.AppendBytes(tiny, make([]byte, 16<<20)))
	}
	base := heapAfterGC()
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
	grown := heapAfterGC() - base
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
	var b, entry []byte
	for i := 0; i < 1_800_000; i++ {
		entry = protowire.AppendTag(entry[:0], 1, protowire.BytesType)
		entry = protowire.AppendString(entry, strconv.FormatInt(int64(i), 36))
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, nil)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	ref := zstdStored(t, store, b)
	_, err = c.DecodeContext(context.Background(), []*commonpb.Payload{ref})
	if !errors.Is(err, codec.ErrCorrupt) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("decode of a blob with 1.8M metadata entries: %v; want ErrCorrupt naming the metadata cap", err)
	}
}
