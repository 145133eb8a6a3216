package s3store

import "sync/atomic"

// Stats is a snapshot of a Store's counters since New.
type Stats struct {
	// Puts counts objects written (PutObject or completed multipart upload); a Put of
	// an existing key writes nothing and is not counted.
	Puts int64
	// Gets counts objects opened by Get.
	Gets int64
	// Touches counts age checks of existing objects: Touch calls and Puts of existing keys.
	Touches int64
	// Copies counts refreshes: self-copies that gave an object a new LastModified.
	Copies int64
	// MultipartUploads counts multipart uploads started: by Put, and by refreshes of
	// objects over 5 GiB or on servers where CopyObject keeps LastModified.
	MultipartUploads int64
	// Aborts counts multipart uploads aborted after a failure or cancellation.
	Aborts int64
	// Retries counts retried S3 requests, and resumed Get bodies.
	Retries int64
	// BytesUp counts body bytes of successful uploads (parts and single puts).
	BytesUp int64
	// BytesDown counts body bytes read by Get.
	BytesDown int64
}

// counters are s3store's own, beside blobxfer.Counters.
type counters struct {
	multiparts, aborts atomic.Int64
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	c := &s.core.Stats
	return Stats{Puts: c.Puts.Load(), Gets: c.Gets.Load(), Touches: c.Touches.Load(), Copies: c.Refreshes.Load(),
		MultipartUploads: s.stats.multiparts.Load(), Aborts: s.stats.aborts.Load(),
		Retries: c.Retries.Load(), BytesUp: c.BytesUp.Load(), BytesDown: c.BytesDown.Load()}
}
