package gcsstore_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
)

// TestConformance runs the Store contract against fake-gcs-server: with default parts
// (the 9 MiB blob is one upload), with 256 KiB parts (36 parts, composed in two levels,
// read back as parallel ranges) and with 1 MiB parts one at a time (one stream).
func TestConformance(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name string
		opts gcsstore.Options
	}{
		{"Defaults", gcsstore.Options{}},
		{"SmallPartsParallel", gcsstore.Options{PartSize: 256 << 10, Concurrency: 4}},
		{"SmallPartsSequential", gcsstore.Options{PartSize: 1 << 20, Concurrency: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) driver.Store { return newStore(t, srv, "", tc.opts) })
		})
	}
}
