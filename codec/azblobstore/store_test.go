package azblobstore_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
)

// TestConformance runs the Store contract against Azurite: with default parts (the
// 9 MiB blob is one Put Blob), with 1 MiB blocks (9 staged blocks, read back as
// parallel ranges) and with 1 MiB blocks one at a time (one stream).
func TestConformance(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name string
		opts azblobstore.Options
	}{
		{"Defaults", azblobstore.Options{}},
		{"SmallPartsParallel", azblobstore.Options{PartSize: 1 << 20, Concurrency: 4}},
		{"SmallPartsSequential", azblobstore.Options{PartSize: 1 << 20, Concurrency: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) driver.Store { return newStore(t, srv, "", tc.opts) })
		})
	}
}
