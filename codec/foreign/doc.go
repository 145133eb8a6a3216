// Package foreign is the home of the foreign readers: the codec.Reader implementations
// that read references another offloader left in history, so a team that switches to
// longhaul keeps decoding the payloads already there, in replaying workers and in the
// codec server alike. This package holds no code; each reader is a subpackage.
//
// A foreign reader is a parser and a source, nothing more. It implements codec.Reader:
//
//   - Parse(codec.Candidate) (codec.Locator, bool, error) recognizes its kind of
//     reference, cheaply, and turns it into a codec.Locator (kind, namespace, bucket or
//     key, claimed size, maximum, sha256 digest, form);
//   - Open(ctx, codec.Locator) (io.ReadCloser, error) opens the bytes a Locator names,
//     retrying transient failures until a body starts.
//
// The codec does everything else for every kind alike: namespace containment, limits,
// bounded reads, verification of the digest, decompression, the metadata caps, the cache,
// previews and download links. List the readers in codec.Options.Readers (the codec
// server: payloadsvc --read-datadog, --read-temporal-s3; fsck: longhaul fsck).
//
// The readers:
//
//   - [github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog]: DataDog's large-payload
//     codec (github.com/DataDog/temporal-large-payload-codec), v1 and v2 references, read
//     from its HTTP service or from a longhaul Store holding a copy of its blobs;
//   - [github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3]: the claims of
//     Temporal's own S3 External Storage driver (go.temporal.io/sdk/contrib/aws/s3driver),
//     read from S3; it is also a converter.StorageDriver to list in a worker's
//     ExternalStorage.Drivers.
package foreign
