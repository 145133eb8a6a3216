package s3store_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestConformance runs the Store contract against versitygw, with default parts (the
// 9 MiB blob is one PutObject) and with 5 MiB parts (it is a 2-part multipart upload,
// read back as parallel ranges or as one stream). One case runs against a server in
// another region than us-east-1, so every request kind is signed for that region.
func TestConformance(t *testing.T) {
	us := testenv.S3(t, testenv.S3Options{})
	eu := testenv.S3(t, testenv.S3Options{Region: "eu-central-1"})
	for _, tc := range []struct {
		name string
		srv  *testenv.S3Server
		opts s3store.Options
	}{
		{"Defaults", us, s3store.Options{}},
		{"SmallPartsParallel", eu, s3store.Options{PartSize: 5 << 20, Concurrency: 4}},
		{"SmallPartsSequential", us, s3store.Options{PartSize: 5 << 20, Concurrency: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) driver.Store { return newStore(t, tc.srv, "", tc.opts) })
		})
	}
}
