package s3store_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestConformance runs the Store contract against versitygw, with default parts (the
// 9 MiB blob is one PutObject) and with 5 MiB parts (it is a 2-part multipart upload,
// read back as parallel ranges or as one stream), with v2 (BLAKE3) keys, whose bodies
// carry CRC64NVME or CRC32C unsigned, and v1 (SHA-256) keys. One case runs against a
// server in another region than us-east-1, so every request kind is signed for that
// region.
func TestConformance(t *testing.T) {
	us := testenv.S3(t, testenv.S3Options{})
	eu := testenv.S3(t, testenv.S3Options{Region: "eu-central-1"})
	crc32c := types.ChecksumAlgorithmCrc32c
	for _, tc := range []struct {
		name string
		srv  *testenv.S3Server
		hash string
		opts s3store.Options
	}{
		{"Defaults", us, driver.BLAKE3, s3store.Options{}},
		{"DefaultsV1", us, driver.SHA256, s3store.Options{}},
		{"SmallPartsParallel", eu, driver.BLAKE3, s3store.Options{PartSize: 5 << 20, Concurrency: 4}},
		{"SmallPartsParallelCRC32C", us, driver.BLAKE3, s3store.Options{PartSize: 5 << 20, Concurrency: 4, Checksum: crc32c}},
		{"SmallPartsSequentialV1", us, driver.SHA256, s3store.Options{PartSize: 5 << 20, Concurrency: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.RunWithOptions(t, func(t *testing.T) driver.Store { return newStore(t, tc.srv, "", tc.opts) },
				storetest.Options{Hash: tc.hash})
		})
	}
}
