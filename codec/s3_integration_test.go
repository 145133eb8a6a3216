package codec_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// The integration tests run over s3store against a real versitygw too.
func init() {
	storeKinds = append(storeKinds, storeKind{"s3store", func(t *testing.T) driver.Store {
		srv := testenv.S3(t, testenv.S3Options{})
		s, err := s3store.New(srv.NewClient(), srv.Bucket, s3store.Options{Prefix: "longhaul"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
}
