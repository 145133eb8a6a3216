// Package blobxfer is what the cloud blob stores (codec/s3store, codec/gcsstore,
// codec/azblobstore) share, so that each keeps only what its SDK makes different:
//
//   - Core: where a store keeps its blobs (Location: bucket and prefix), the options
//     every store has with their defaults, the retrier and the counters;
//   - the steps of the driver.Store methods around a store's own requests: Do (key
//     check, a done context, error naming), Put (dedupe by size, refresh, replace a
//     damaged object, a lost create race), Touch (refresh after TouchAfter) and
//     Core.Get (first request, then a Reader);
//   - per-request retries bounded per attempt (Retrier);
//   - uploads split into parts read in place from an io.ReaderAt or buffered from a
//     sequential source (Parts, Body);
//   - a Reader that streams the head of an object while later ranges are fetched in
//     parallel, resuming a body that breaks off;
//   - the frame of SweepUploads and Lifecycle (Core.Sweep, Core.Lifecycle).
package blobxfer
