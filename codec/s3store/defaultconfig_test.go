package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestDefaultConfigClient: with a client from config.LoadDefaultConfig (request checksums
// and response checksum validation "when supported", as applications have them) blobs
// round-trip whole and in parallel ranges, and an object whose stored bytes were
// corrupted decodes to driver.ErrCorrupt at once, with no retry.
func TestDefaultConfigClient(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		size        int
		concurrency int
	}{
		{"small", 300 << 10, 0},
		{"ranges", 12 << 20, 4},
		{"one stream", 12 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := s3store.New(srv.NewDefaultConfigClient(t), srv.Bucket, s3store.Options{
				Prefix: testenv.UniquePrefix(), PartSize: 5 << 20, Concurrency: tc.concurrency, Logger: testenv.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			data, key := blob(t, tc.size)
			if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("intact object: %d bytes, %v", len(got), err)
			}

			c, err := codec.New(s, codec.Options{Threshold: 1 << 10, Compression: codec.NoCompression, CacheBytes: -1})
			if err != nil {
				t.Fatal(err)
			}
			orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
			refs, err := c.Encode([]*commonpb.Payload{orig})
			if err != nil {
				t.Fatal(err)
			}
			if out, err := c.Decode(refs); err != nil || !proto.Equal(out[0], orig) {
				t.Fatalf("intact decode: %v", err)
			}
			ref, err := codec.ParseReference(refs[0])
			if err != nil {
				t.Fatal(err)
			}
			bkey, _ := ref.Key(codec.DefaultNamespace)
			okey, err := s.ObjectKey(bkey)
			if err != nil {
				t.Fatal(err)
			}
			srv.CorruptObject(t, okey)
			retries := s.Stats().Retries
			if _, err := c.Decode(refs); !errors.Is(err, driver.ErrCorrupt) {
				t.Fatalf("corrupted object: %v, want ErrCorrupt", err)
			}
			if n := s.Stats().Retries - retries; n != 0 {
				t.Fatalf("%d retries of a corrupted object, want 0", n)
			}
		})
	}
}
