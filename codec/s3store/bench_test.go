package s3store_test

import (
	"bytes"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

var benchSizes = []int{16 << 20, 64 << 20}

// BenchmarkPut uploads to versitygw on loopback: one PutObject of the whole object
// against a multipart upload of 8 MiB parts, 4 in flight, under v1 keys (bodies carry
// SHA-256, the signed payload hash) and v2 keys (CRC64NVME or CRC32C, unsigned). It
// reports the client's CPU time per byte (cpu-ns/B: this process, not the server).
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
			for _, key := range []struct {
				name, hash string
				checksum   types.ChecksumAlgorithm
			}{
				{"V1SHA256", driver.SHA256, ""},
				{"V2CRC64NVME", driver.BLAKE3, types.ChecksumAlgorithmCrc64nvme},
				{"V2CRC32C", driver.BLAKE3, types.ChecksumAlgorithmCrc32c},
			} {
				b.Run(fmt.Sprintf("%dMiB/%s/%s", size>>20, mode.name, key.name), func(b *testing.B) {
					opts := mode.opts
					opts.Checksum = key.checksum
					s := newStore(b, srv, "", opts)
					ctx := testenv.Context(b, 10*time.Minute)
					b.SetBytes(int64(size))
					cpu0 := cpuTime(b)
					for i := 0; b.Loop(); i++ {
						k, err := driver.Key("bench", key.hash, fmt.Sprintf("%064x", i)) // the store does not check addresses
						if err != nil {
							b.Fatal(err)
						}
						if _, err := s.Put(ctx, k, bytes.NewReader(data), int64(size)); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/float64(size), "cpu-ns/B")
				})
			}
		}
	}
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
