// Package gcsstore is a driver.Store in a Google Cloud Storage bucket, on
// cloud.google.com/go/storage (GCS itself, or fake-gcs-server for tests).
//
// # Writes
//
// Put first reads the object's attributes: keys are content addresses, so an existing
// object already holds the bytes and is only refreshed (below); the source is not read.
// Objects up to Options.PartSize (16 MiB) go up in one request; larger ones as parts
// uploaded in parallel (Options.Concurrency, 4) to temporary objects under
// "{prefix}/.uploads/", composed into the object (two levels of compose above 32 parts)
// and then deleted. Every upload carries the CRC32C of its bytes, and the compose the
// CRC32C of the whole (combined from the parts'), so GCS rejects a body corrupted on
// the way. CRC32C alone, no MD5: it is computed in hardware at memory speed, and
// integrity end to end rests on the content address the reader verifies. The object is created only by the last request, with the
// precondition ifGenerationMatch=0: nothing partial is ever visible, and a concurrent
// writer of the same key is never overwritten (its Put reports created=false).
// Temporary parts that a crashed worker leaves are removed by a lifecycle rule (see
// OPERATIONS.md).
//
// # Reads
//
// Get streams the object; in an object over PartSize the ranges after the first are
// fetched in parallel while the first streams. Memory is bounded by Concurrency ranges of PartSize. A body that breaks off is
// resumed from where it stopped; one that cannot be completed is an error satisfying
// errors.Is(err, io.ErrUnexpectedEOF), never a short read. The reader's Size method
// reports the object's length. A missing key is driver.ErrNotFound.
//
// # Retries
//
// Each request (one part, one range) is retried on its own under Options.Retry with
// driver.Retry: exponential backoff with full jitter, bounded in time, each attempt
// bounded by Options.AttemptTimeout. Retried: 408, 429, 5xx, connection reset or
// refused, a body cut short. Other 4xx (a refused checksum among them), source errors
// and unknown errors are not. The client library's own retries are turned off for the
// store's calls (storage.RetryNever), so retries are counted (Stats.Retries) in one
// place, and an error returned after the store's retries is marked driver.Permanent.
//
// # Retention
//
// Every object is written with customTime = now. When Put finds the key already there,
// or Touch is called, and customTime is older than Options.TouchAfter (24h), the store
// sets customTime to now: a metadata update, the bytes are not rewritten. A lifecycle
// rule with the daysSinceCustomTime condition then deletes a blob N days after its last
// use, not its first write. Choose N as for S3:
//
//	N >= longest workflow lifetime + namespace retention + TouchAfter (+ a day of margin)
//
// GCS never moves customTime backwards, so a worker whose clock is behind an object's
// customTime leaves it as it is. OPERATIONS.md next to this file has the lifecycle
// configuration and the IAM permissions a worker needs.
package gcsstore
