package azblobstore

import "sync/atomic"

// Stats is a snapshot of a Store's counters since New.
type Stats struct {
	// Puts counts blobs written (Put Blob, or a committed block list); a Put of an
	// existing key writes nothing and is not counted.
	Puts int64
	// Gets counts blobs opened by Get.
	Gets int64
	// Touches counts age checks of existing blobs: Touch calls and Puts of existing keys.
	Touches int64
	// Refreshes counts metadata rewrites that moved a blob's Last-Modified to now.
	Refreshes int64
	// Blocks counts blocks staged for blobs over PartSize.
	Blocks int64
	// Retries counts retried requests, and resumed Get bodies.
	Retries int64
	// BytesUp counts body bytes of successful uploads (blocks and single puts).
	BytesUp int64
	// BytesDown counts body bytes read by Get.
	BytesDown int64
}

// counters are azblobstore's own, beside blobxfer.Counters.
type counters struct {
	blocks atomic.Int64
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	c := &s.core.Stats
	return Stats{Puts: c.Puts.Load(), Gets: c.Gets.Load(), Touches: c.Touches.Load(), Refreshes: c.Refreshes.Load(),
		Blocks: s.stats.blocks.Load(), Retries: c.Retries.Load(), BytesUp: c.BytesUp.Load(), BytesDown: c.BytesDown.Load()}
}
