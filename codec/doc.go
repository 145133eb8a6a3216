// Package codec moves large Temporal payloads into blob storage and leaves small,
// readable, content-addressed references in workflow history.
//
// A Codec is a converter.PayloadCodec. Every payload whose serialized size is over
// Options.Threshold (and, largest first, enough others for one call's inline total to fit
// Options.InlineBudget) is serialized, compressed with zstd, hashed with BLAKE3 and
// stored under "v2/{namespace}/blake3/{hex}" unless it is already there (dedupe); history
// gets a reference payload with encoding "json/longhaul-ref" (v2). Options.Hash SHA256
// writes v1 instead, "v1/{namespace}/sha256/{hex}", for deployments that must use
// FIPS-approved algorithms; both versions decode whatever the setting. Decode verifies
// the digest of the stored bytes before it trusts them, and keeps recent payloads in a
// bounded cache for replays.
//
// The data path makes one pass over the bytes and keeps about one copy of a payload in
// memory: Data is serialized in place (never copied), large payloads are compressed as
// independent zstd frames on all cores, the store's Put is the one existence check, and
// a read is hashed as it arrives into a buffer sized by what the store holds, which Data
// then aliases. Sizes a reference claims are never trusted for an allocation
// (Options.MaxSize bounds them). Retries belong to the store driver (see driver.Store).
//
// Use NewDataConverter rather than converter.NewCodecDataConverter: it keeps store
// failures out of workflow code (they fail the workflow task, which Temporal retries, so
// workflow determinism holds, under either WorkflowPanicPolicy), honours activity and
// client contexts, and suspends the workflow deadlock detector while a large payload is
// stored or fetched.
//
// This package holds what a worker author needs: New, Options, NewDataConverter, the
// reference format, the errors to branch on, Stats and the Tracer hook. The rest lives
// beside it:
//   - codec/driver: the Store contract drivers implement, the key grammar, ErrNotFound,
//     ErrCorrupt, Permanent and the retry helper;
//   - codec/s3store, codec/gcsstore, codec/azblobstore, codec/filestore, codec/memstore:
//     the drivers; codec/storetest: the conformance suite each passes;
//   - codec/storeurl: opens a store from a URL ("s3://bucket/prefix", "file:///dir");
//   - codec/extstore: longhaul as an SDK External Storage driver;
//   - codec/foreign/...: Readers for references other offloaders wrote (DataDog's
//     large-payload codec, Temporal's S3 External Storage driver);
//   - codec/fsck, codec/retention, codec/sweep: operators' checks and clean-ups.
package codec
