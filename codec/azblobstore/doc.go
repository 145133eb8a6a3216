// Package azblobstore is a driver.Store in an Azure Blob Storage container, on
// github.com/Azure/azure-sdk-for-go/sdk/storage/azblob (Azure itself, or Azurite for
// tests). Blobs are block blobs.
//
// # Writes
//
// Put first reads the blob's properties: keys are content addresses, so an existing
// blob already holds the bytes and is only refreshed (below); the source is not read.
// Blobs up to Options.PartSize (16 MiB) go up in one Put Blob; larger ones as blocks
// staged in parallel (Options.Concurrency, 4), each with its own retries, and committed
// by one Put Block List. Every Put Blob and Put Block carries the CRC64 of its body
// (x-ms-content-crc64, CRC-64/NVME by carry-less multiply, no MD5), so Azure rejects a
// body corrupted on the way (Crc64Mismatch); integrity end to end rests on the content
// address the reader verifies. The blob exists only once the Put Blob or the block
// list is committed, with If-None-Match: *: nothing partial is ever visible, and a
// concurrent writer of the same key is never overwritten (its Put reports
// created=false). Block ids carry a random upload id, so two writers of one blob never
// mix blocks; Azure discards the uncommitted blocks of a failed upload after a week.
//
// # Reads
//
// Get streams the blob; in a blob over PartSize the ranges after the first are fetched
// in parallel while the first streams, all under If-Match of the ETag the first request
// saw. Memory is bounded by Concurrency ranges of PartSize. A body that breaks off is
// resumed from where it stopped; one that cannot be completed is an error satisfying
// errors.Is(err, io.ErrUnexpectedEOF), never a short read. The reader's Size method
// reports the blob's length. A missing key is driver.ErrNotFound.
//
// # Retries
//
// Each request (one block, one range) is retried on its own under Options.Retry with
// driver.Retry, each attempt bounded by Options.AttemptTimeout. Retried: 408, 429, 500,
// 502, 503 ServerBusy, 504, connection reset or refused, timeouts, a body cut short.
// Other 4xx and source errors are not. The client's retry policy is turned off for the
// store's calls, so retries are counted (Stats.Retries) in one place, and an error
// returned after the store's retries is marked driver.Permanent.
//
// # Retention
//
// Azure lifecycle management deletes by age since Last-Modified
// (daysAfterModificationGreaterThan). When Put finds the key already there, or Touch
// is called, and the blob's Last-Modified is older than Options.TouchAfter (24h), the
// store rewrites its metadata (Set Blob Metadata, key "longhaulrefreshed"), which moves
// Last-Modified to now without rewriting the bytes. The rule then counts from the last
// use. Choose its age N as for S3:
//
//	N >= longest workflow lifetime + namespace retention + TouchAfter (+ a day of margin)
//
// Last-access-time rules are not used: they need access tracking enabled on the
// account, Azure updates the access time at most once a day, and a read by a codec
// server or an operator would keep a blob alive; the metadata rewrite works on every
// account and on Azurite. The worker's clock is compared with Last-Modified, so keep it in sync. OPERATIONS.md next to this
// file has the lifecycle policy and the RBAC role a worker needs.
package azblobstore
