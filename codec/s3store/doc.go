// Package s3store is a driver.Store in an S3 bucket, on aws-sdk-go-v2: AWS S3 or any
// S3-compatible server (versitygw, MinIO, Ceph; give the client a BaseEndpoint and
// UsePathStyle).
//
// # Writes
//
// Put first asks HEAD whether the key exists: keys are content addresses, so an
// existing object already holds the bytes and is only refreshed (below). Objects up to
// Options.PartSize (16 MiB) go up in one PutObject, larger ones as a multipart upload
// with Options.Concurrency (4) parts in flight. Every request carries a checksum of its
// body, so S3 rejects a body corrupted on the way and stores nothing:
//
//   - under a v2 key (v2/{ns}/blake3/{hex}) a CRC64NVME (x-amz-checksum-crc64nvme, the
//     AWS SDK's default algorithm), or a CRC32C with Options.Checksum for servers
//     without CRC64NVME (ErrChecksumRefused says so), and the payload is sent
//     UNSIGNED-PAYLOAD: the client hashes no byte with SHA-256, the CRCs run at memory
//     speed (carry-less multiply, the CPU's CRC32 instruction), and the BLAKE3 address,
//     verified on read, guards the bytes end to end. A multipart upload declares the
//     algorithm and no type, so S3 keeps a FULL_OBJECT CRC64NVME (COMPOSITE CRC32C),
//     and its complete call lists each part's checksum;
//   - under a v1 key (v1/{ns}/sha256/{hex}; FIPS deployments) and any other key, the
//     SHA-256 (x-amz-checksum-sha256), which also serves as the SigV4 payload hash, so
//     each byte is hashed once, and S3 checks it even with unsigned payloads.
//
// The checksum goes in a header, not the SDK's aws-chunked trailer: that works over
// plain HTTP as over TLS, and the CRC is computed by a fast implementation, not the SDK's
// table-driven one. An object is visible only whole: a PutObject or a completed upload.
// A failed or cancelled multipart upload is aborted on a fresh context once its parts
// in flight have ended, so no parts are left behind, unless S3 cannot be reached then
// (see the AbortIncompleteMultipartUpload rule in OPERATIONS.md).
//
// # Reads
//
// Get streams the object. In an object over PartSize the parts after the first are
// fetched as parallel ranges while the first streams. A body that breaks off is resumed
// from where it stopped; a body that cannot be completed is an error satisfying
// errors.Is(err, io.ErrUnexpectedEOF), never a short read. A missing key is
// driver.ErrNotFound.
//
// # Retries
//
// Each request (one part, one range) is retried on its own under Options.Retry with
// driver.Retry: exponential backoff with full jitter, bounded in time. Retried: 500,
// 502, 503 SlowDown, 504, 408, 429, connection reset or refused, timeouts, a body cut
// short. Other 4xx, source errors and unknown errors are not. The client's own retryer
// is bypassed per call, so retries happen and are counted (Stats.Retries) in one place,
// and an error returned after the store's retries is marked driver.Permanent so that
// no layer above (the codec, the payload service) retries it again: the Store
// contract gives retries to the driver alone. Context cancellation ends every wait and
// request.
//
// # Retention
//
// Blobs are deduplicated, so an old blob may be referenced by a workflow that started
// today. An age-based lifecycle rule (expire after N days) is still safe because reuse
// refreshes age: when Put finds the key already there, or Touch is called, and the
// object is older than Options.TouchAfter (24h), the store copies it onto itself, which
// gives it a new LastModified. CopyObject does this up to 5 GiB, UploadPartCopy above.
// Where a server treats a self-copy as a metadata update that keeps LastModified
// (versitygw's posix backend does), the store notices and refreshes by multipart copy
// instead.
//
// Choose the rule's age N from three terms:
//
//	N >= longest workflow lifetime + namespace retention + TouchAfter (+ a day of margin)
//
// Each write of a payload leaves its blob younger than TouchAfter (it was written, or
// found and refreshed if older); the reference then lives in a running workflow for at
// most its lifetime, and in closed history (replay, UI, codec server) for the
// namespace's retention. For workflows of up to 30 days in a namespace with 7 days of
// retention and the default TouchAfter, expire after 39 days or more. The worker's clock
// is compared with LastModified, so keep it in sync.
//
// OPERATIONS.md next to this file has the minimal IAM policy for a worker and a
// lifecycle configuration to start from.
package s3store
