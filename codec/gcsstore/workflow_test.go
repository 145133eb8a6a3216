package gcsstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"path"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// TestWorkflow sends 40 MiB through a real workflow on a Temporal dev server with
// gcsstore on fake-gcs-server behind the codec: workflow input -> activity input ->
// activity result -> workflow result. History holds only references; the one object
// under the prefix was composed from 8 MiB parts (none left behind), its name is the
// SHA-256 of its bytes, it carries a customTime, and the bytes come back intact. (The
// 200 MiB round trip is TestMemoryBound200MiB, without Temporal, to keep CI short.)
func TestWorkflow(t *testing.T) {
	const size = 40 << 20
	srv := server(t)
	dev := testenv.Temporal(t, testenv.DevServerOptions{})
	store := newStore(t, srv, "", gcsstore.Options{PartSize: 8 << 20})
	// Random bytes do not compress; NoCompression stores the serialized payload.
	c, err := codec.New(store, codec.Options{Namespace: dev.Namespace, Compression: codec.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, size)
	rand.NewChaCha8([32]byte{14}).Read(in)
	ctx := testenv.Context(t, 5*time.Minute)
	ref, err := codec.ParseReference(testenv.Echo(t, ctx, dev, codec.NewDataConverter(c, nil), "gcsstore-workflow", in))
	if err != nil {
		t.Fatalf("workflow input in history is not a reference: %v", err)
	}
	objects := listObjects(t, ctx, srv, store)
	if len(objects) != 1 {
		t.Fatalf("bucket holds %v under the prefix, want 1 object (the payload deduplicated, no parts left)", objects)
	}
	key, err := codec.BlobKey(dev.Namespace, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := store.ObjectName(key); objects[0] != want {
		t.Errorf("object %s, but history references %s", objects[0], want)
	}
	if a := objectAttrs(t, ctx, srv, store, key); a.CustomTime.IsZero() || a.Size != ref.Size {
		t.Errorf("object attrs: %d bytes, customTime %v; want %d bytes and a customTime", a.Size, a.CustomTime, ref.Size)
	}
	// The blob's bytes hash to its name, and hold the reference's size.
	got := storetest.ReadBlob(t, ctx, store, key)
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != path.Base(objects[0]) || int64(len(got)) != ref.Size {
		t.Errorf("stored blob: %d bytes with sha256 %x; want %d bytes, sha256 = its name %s", len(got), sum, ref.Size, objects[0])
	}
	st := store.Stats()
	t.Logf("store stats: %+v; codec stats: %+v", st, c.Stats())
	if st.Puts != 1 || st.Composes != 1 || st.Parts != (ref.Size+8<<20-1)/(8<<20) {
		t.Errorf("store Stats() = %+v, want one composed Put (the rest deduplicated)", st)
	}
}
