package azblobstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"path"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// TestWorkflow sends 40 MiB through a real workflow on a Temporal dev server with
// azblobstore on Azurite behind the codec: workflow input -> activity input ->
// activity result -> workflow result. History holds only references; the one blob
// under the prefix was committed from 8 MiB blocks, its name is the SHA-256 of its
// bytes, and the bytes come back intact. (The
// 200 MiB round trip is TestMemoryBound200MiB, without Temporal, to keep CI short.)
func TestWorkflow(t *testing.T) {
	const size = 40 << 20
	srv := server(t)
	dev := testenv.Temporal(t, testenv.DevServerOptions{})
	store := newStore(t, srv, "", azblobstore.Options{PartSize: 8 << 20})
	// Random bytes do not compress; NoCompression stores the serialized payload.
	c, err := codec.New(store, codec.Options{Namespace: dev.Namespace, Compression: codec.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, size)
	rand.NewChaCha8([32]byte{14}).Read(in)
	ctx := testenv.Context(t, 5*time.Minute)
	ref, err := codec.ParseReference(testenv.Echo(t, ctx, dev, codec.NewDataConverter(c, nil), "azblobstore-workflow", in))
	if err != nil {
		t.Fatalf("workflow input in history is not a reference: %v", err)
	}
	objects := listBlobs(t, ctx, srv, store)
	if len(objects) != 1 {
		t.Fatalf("bucket holds %v under the prefix, want 1 object (the payload deduplicated, no parts left)", objects)
	}
	key, err := codec.BlobKey(dev.Namespace, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := store.BlobName(key); objects[0] != want {
		t.Errorf("object %s, but history references %s", objects[0], want)
	}
	if p := blobProps(t, ctx, srv, store, key); *p.ContentLength != ref.Size {
		t.Errorf("blob holds %d bytes, want %d", *p.ContentLength, ref.Size)
	}
	// The blob's bytes hash to its name, and hold the reference's size.
	got := storetest.ReadBlob(t, ctx, store, key)
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != path.Base(objects[0]) || int64(len(got)) != ref.Size {
		t.Errorf("stored blob: %d bytes with sha256 %x; want %d bytes, sha256 = its name %s", len(got), sum, ref.Size, objects[0])
	}
	st := store.Stats()
	t.Logf("store stats: %+v; codec stats: %+v", st, c.Stats())
	if st.Puts != 1 || st.Blocks != (ref.Size+8<<20-1)/(8<<20) {
		t.Errorf("store Stats() = %+v, want one Put of staged blocks (the rest deduplicated)", st)
	}
}
