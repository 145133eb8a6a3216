package gcsstore_test

import (
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestMemoryBound200MiB puts a 200 MiB blob from a sequential source (parts buffered,
// 4 in flight) and reads it back (ranges prefetched, 4 in flight): the live heap stays
// within the parts in flight, far below the blob.
func TestMemoryBound200MiB(t *testing.T) {
	srv := server(t)
	opts := gcsstore.Options{PartSize: 8 << 20, Concurrency: 4}
	s := newStore(t, srv, "", opts)
	storetest.MemoryBound(t, testenv.Context(t, 5*time.Minute), s, 200<<20, int64(opts.Concurrency+2)*opts.PartSize+48<<20)
	if st := s.Stats(); st.Parts != 25 || st.Composes != 1 {
		t.Errorf("Stats() = %+v, want 25 parts composed once", st)
	}
}
