package s3store_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

var benchSizes = []int{16 << 20, 64 << 20}

// BenchmarkPut uploads to versitygw on loopback: one PutObject of the whole object
// against a multipart upload of 8 MiB parts, 4 in flight.
func BenchmarkPut(b *testing.B) {
	srv := testenv.S3(b, testenv.S3Options{})
	for _, size := range benchSizes {
		data, _ := blob(b, size)
		for _, mode := range []struct {
			name string
			opts s3store.Options
		}{
			{"SinglePart", s3store.Options{PartSize: int64(size)}},
			{"Multipart8MiBx4", s3store.Options{PartSize: 8 << 20, Concurrency: 4}},
		} {
			b.Run(fmt.Sprintf("%dMiB/%s", size>>20, mode.name), func(b *testing.B) {
				s := newStore(b, srv, "", mode.opts)
				ctx := testenv.Context(b, 10*time.Minute)
				b.SetBytes(int64(size))
				for i := 0; b.Loop(); i++ {
					key := fmt.Sprintf("bench/put-%d", i)
					if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(size)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGet downloads from versitygw on loopback: one streamed GET against parallel
// 8 MiB ranges, 4 in flight.
func BenchmarkGet(b *testing.B) {
	srv := testenv.S3(b, testenv.S3Options{})
	for _, size := range benchSizes {
		data, key := blob(b, size)
		ctx := testenv.Context(b, 10*time.Minute)
		if _, err := newStore(b, srv, "", s3store.Options{Prefix: "bench"}).Put(ctx, key, bytes.NewReader(data), int64(size)); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name string
			opts s3store.Options
		}{
			{"Stream", s3store.Options{Prefix: "bench", Concurrency: 1}},
			{"Ranges8MiBx4", s3store.Options{Prefix: "bench", PartSize: 8 << 20, Concurrency: 4}},
		} {
			b.Run(fmt.Sprintf("%dMiB/%s", size>>20, mode.name), func(b *testing.B) {
				s := newStore(b, srv, "", mode.opts)
				b.SetBytes(int64(size))
				for b.Loop() {
					r, err := s.Get(ctx, key)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.Copy(io.Discard, r)
					r.Close()
					if err != nil || n != int64(size) {
						b.Fatalf("read %d of %d bytes: %v", n, size, err)
					}
				}
			})
		}
	}
}
