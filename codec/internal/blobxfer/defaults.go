package blobxfer

import "time"

// OrDefault returns v, or def when v is zero or negative: how every cloud store reads
// its Concurrency, TouchAfter and AttemptTimeout options, so that no value below one
// (a negative timeout would fail every request at once) is ever used.
func OrDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
