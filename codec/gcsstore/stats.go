package gcsstore

import "sync/atomic"

// Stats is a snapshot of a Store's counters since New.
type Stats struct {
	// Puts counts objects written (one upload, or parts composed); a Put of an existing
	// key writes nothing and is not counted.
	Puts int64
	// Gets counts objects opened by Get.
	Gets int64
	// Touches counts age checks of existing objects: Touch calls and Puts of existing keys.
	Touches int64
	// Refreshes counts customTime updates that restarted an object's lifecycle clock.
	Refreshes int64
	// Composes counts compose requests (one per object of up to 32 parts, more for
	// larger ones).
	Composes int64
	// Parts counts part objects uploaded for composed objects.
	Parts int64
	// Cleanups counts part objects deleted after a compose or a failed upload.
	Cleanups int64
	// Retries counts retried requests, and resumed Get bodies.
	Retries int64
	// BytesUp counts body bytes of successful uploads (parts and single uploads).
	BytesUp int64
	// BytesDown counts body bytes read by Get.
	BytesDown int64
}

// counters are gcsstore's own, beside blobxfer.Counters.
type counters struct {
	composes, parts, cleanups atomic.Int64
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	c := &s.core.Stats
	return Stats{Puts: c.Puts.Load(), Gets: c.Gets.Load(), Touches: c.Touches.Load(), Refreshes: c.Refreshes.Load(),
		Composes: s.stats.composes.Load(), Parts: s.stats.parts.Load(), Cleanups: s.stats.cleanups.Load(),
		Retries: c.Retries.Load(), BytesUp: c.BytesUp.Load(), BytesDown: c.BytesDown.Load()}
}
