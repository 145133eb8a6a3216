package azblobstore_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

func TestSmoke(t *testing.T) {
	srv := testenv.Azurite(t, testenv.AzuriteOptions{})
	for _, n := range []int{0, 1000, 3 << 20, 40 << 18} {
		s := newStore(t, srv, "", azblobstore.Options{PartSize: 256 << 10})
		ctx := testCtx(t, time.Minute)
		b, key := blob(t, n)
		created, err := s.Put(ctx, key, bytes.NewReader(b), int64(n))
		if err != nil || !created {
			t.Fatalf("put %d: %v %v", n, created, err)
		}
		created, err = s.Put(ctx, key, io.MultiReader(bytes.NewReader(b)), int64(n))
		if err != nil || created {
			t.Fatalf("put again %d: %v %v", n, created, err)
		}
		r, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		storetest.EqualBlobs(t, got, b)
		t.Logf("%d: %+v objects %v", n, s.Stats(), listBlobs(t, ctx, srv, s))
		a := blobProps(t, ctx, srv, s, key)
		t.Logf("modified %v md5 %x", *a.LastModified, a.ContentMD5)
	}
}
