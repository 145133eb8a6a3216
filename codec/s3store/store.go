package s3store

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

var _ driver.Store = (*Store)(nil)

// S3 limits on multipart uploads.
const (
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
	maxParts    = 10000
)

// maxCopySize is the largest object CopyObject can copy; larger self-copies use
// UploadPartCopy. A variable so tests can exercise the multipart path.
var maxCopySize int64 = 5 << 30

// Options configures a Store. The zero value means the defaults; a zero or negative
// Concurrency, TouchAfter or AttemptTimeout means its default.
type Options struct {
	// Prefix is prepended to every key, e.g. "longhaul" stores key "v2/ns/blake3/ab.."
	// as "longhaul/v2/ns/blake3/ab..". A trailing slash is optional.
	Prefix string
	// PartSize is the multipart part size and the largest object sent in one PutObject;
	// default 16 MiB, at least 5 MiB. Objects that would need more than 10,000 parts
	// use larger parts. Get fetches ranges of this size.
	PartSize int64
	// Concurrency bounds the parts (Put) or ranges (Get) in flight for one object;
	// default 4. Each costs up to PartSize of memory when the source is not an
	// io.ReaderAt, and always on Get.
	Concurrency int
	// ServerSideEncryption is the SSE mode of new objects: "" (the bucket default),
	// types.ServerSideEncryptionAes256 (SSE-S3) or types.ServerSideEncryptionAwsKms.
	ServerSideEncryption types.ServerSideEncryption
	// KMSKeyID is the KMS key for SSE-KMS; empty means the account's aws/s3 key. Setting
	// it implies ServerSideEncryption aws:kms.
	KMSKeyID string
	// StorageClass of new and refreshed objects; "" is STANDARD.
	StorageClass types.StorageClass
	// TouchAfter is the age after which reusing an object (Touch, or a Put of an
	// existing key) copies it onto itself to restart its lifecycle clock; default 24h.
	TouchAfter time.Duration
	// Retry bounds the retries of each S3 request (one part, one range); zero value =
	// codec's defaults. The client's own retryer is bypassed, so retries are counted once.
	Retry driver.RetryPolicy
	// AttemptTimeout bounds one request with its body (one part or range), so a hung
	// connection is retried rather than waited on; default 2 minutes. Raise it for slow
	// links with large parts. Streamed Get bodies are bounded by the Get context only.
	AttemptTimeout time.Duration
	// Logger receives retries, aborts and refreshes; default slog.Default().
	Logger *slog.Logger
	// Checksum is the checksum each request body of a v2 (BLAKE3) key carries for the
	// server to verify, the body itself unsigned: types.ChecksumAlgorithmCrc64nvme
	// (default; the AWS SDK's own default) or types.ChecksumAlgorithmCrc32c, for a
	// server that lacks CRC64NVME (ErrChecksumRefused). v1 (SHA-256) keys carry
	// x-amz-checksum-sha256, which is also their signed payload hash.
	Checksum types.ChecksumAlgorithm
}

// Store is a driver.Store in an S3 bucket (AWS or any S3-compatible server). It is safe
// for concurrent use.
type Store struct {
	client *s3.Client
	core   *blobxfer.Core
	opts   Options
	ops    blobxfer.Ops[objectInfo]
	stats  counters
	// selfCopyKeepsAge is set once a self-copy is seen to keep LastModified.
	selfCopyKeepsAge atomic.Bool
}

// New returns a Store on bucket. The client decides endpoint, region, credentials and
// addressing style (set UsePathStyle and BaseEndpoint for most S3-compatible servers).
func New(client *s3.Client, bucket string, opts Options) (*Store, error) {
	spec := blobxfer.Spec{Driver: "s3store", Scheme: "s3", Kind: "bucket", Noun: "object", MinPartSize: minPartSize,
		MaxPartSize: maxPartSize, Classify: classify}
	core, err := blobxfer.NewCore(spec, client, bucket, blobxfer.Options{Prefix: opts.Prefix, PartSize: opts.PartSize,
		Concurrency: opts.Concurrency, TouchAfter: opts.TouchAfter, Retry: opts.Retry, AttemptTimeout: opts.AttemptTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	c := core.Opts
	opts.PartSize, opts.Concurrency, opts.TouchAfter, opts.AttemptTimeout, opts.Logger = c.PartSize, c.Concurrency, c.TouchAfter,
		c.AttemptTimeout, c.Logger
	if opts.Checksum, err = validChecksum(opts.Checksum); err != nil {
		return nil, err
	}
	if opts.KMSKeyID != "" && opts.ServerSideEncryption == "" {
		opts.ServerSideEncryption = types.ServerSideEncryptionAwsKms
	}
	s := &Store{client: client, core: core, opts: opts}
	core.Retrier.Explain = s.refusalHint
	s.ops = blobxfer.Ops[objectInfo]{Stat: s.head, Info: objectInfo.info, Refresh: s.refresh}
	return s, nil
}

// Get opens the object for reading. The body is streamed; in an object over PartSize
// the parts after the first are fetched as parallel ranges (Concurrency in flight, each
// retried on its own) while the first streams. A body that breaks off is resumed from
// where it stopped; one that cannot be completed is an error (io.ErrUnexpectedEOF), never
// a silent short read. The reader stops with ctx; Close releases it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.core.Get(ctx, key, func(ctx context.Context, okey string) (blobxfer.First, error) {
		// One attempt: the first PartSize bytes and a tail of up to tailSlack, as with the
		// last part on Put (an object just over PartSize is one GET), or all of it when
		// ranges are not fetched in parallel.
		var sp span
		var err error
		if s.opts.Concurrency > 1 {
			sp, err = s.getSpanOnce(ctx, okey, 0, s.opts.PartSize+tailSlack(s.opts.PartSize))
			if isCode(err, "InvalidRange") { // an empty object has no byte 0
				sp, err = s.getSpanOnce(ctx, okey, 0, -1)
			}
		} else {
			sp, err = s.getSpanOnce(ctx, okey, 0, -1)
		}
		if err != nil {
			return blobxfer.First{}, err
		}
		// Ranges start where the first body ends, when there are any (blobxfer.NewReader).
		ranges := int64(-1)
		if s.opts.Concurrency > 1 && sp.end > 0 && sp.size > sp.end {
			ranges = sp.end
		}
		return blobxfer.First{Body: s.countBody(sp.body, sp.end-sp.start, false), End: sp.end, Size: sp.size,
			Tail: tailSlack(s.opts.PartSize), Counted: true,
			Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
				return s.openBody(ctx, okey, off, end, ranges >= 0 && off >= ranges)
			}}, nil
	})
}

// Touch reports the object's size and, when it is older than TouchAfter, copies it onto
// itself, which gives it a new LastModified: an age-based lifecycle rule then counts
// from this use, not from the first write. A missing object is driver.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	return blobxfer.Touch(ctx, s.core, s.ops, key)
}

// Put stores size bytes from src under key. An existing object of that size is not
// rewritten, only refreshed (see Touch). Objects up to PartSize (and a sixteenth) go up
// in one PutObject, larger ones as a multipart upload with Concurrency parts in flight,
// the last part taking a remainder of up to a sixteenth of PartSize; every request
// carries a checksum of its body (Options.Checksum for a v2 key, SHA-256 for v1), so S3
// rejects a body corrupted on the way. A failed
// or cancelled multipart upload is aborted, so nothing is visible and no parts are left.
//
// When src is an io.ReaderAt (bytes.Reader, os.File, the codec's sources) parts are
// read from it in place and in parallel; otherwise src is read once, in order, and each
// part is buffered, so every request can be retried on its own. created is false when
// the object was there already: then src is not read.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return blobxfer.Put(ctx, s.core, s.ops, key, size, func(ctx context.Context, okey string, _ *objectInfo) error {
		algo := s.checksumFor(key)
		if size > s.opts.PartSize+tailSlack(s.opts.PartSize) { // a write replaces whatever is there
			return s.putMultipart(ctx, okey, algo, src, size)
		}
		return s.putSingle(ctx, okey, algo, src, size)
	})
}

// objectInfo is what HEAD tells about an object.
type objectInfo struct {
	size    int64
	modTime time.Time
}

// info is what Touch reports of an object.
func (i objectInfo) info() driver.Info { return driver.Info{Size: i.size, ModTime: i.modTime} }

// head returns an object's size and age; a missing object is driver.ErrNotFound.
func (s *Store) head(ctx context.Context, okey string) (objectInfo, error) {
	var info objectInfo
	err := s.retry(ctx, "head", okey, func(ctx context.Context) error {
		var err error
		info, err = s.headOnce(ctx, okey)
		return err
	})
	return info, err
}

// headOnce is one HEAD request, for use inside another request's retry loop.
func (s *Store) headOnce(ctx context.Context, okey string) (objectInfo, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.core.Bucket),
		Key:    aws.String(okey),
	}, noRetry)
	if err != nil {
		return objectInfo{}, err
	}
	return objectInfo{size: aws.ToInt64(out.ContentLength), modTime: aws.ToTime(out.LastModified)}, nil
}

// String names the store in errors and logs, e.g. "s3store(s3://bucket/prefix/)".
func (s *Store) String() string { return s.core.String() }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.core.Bucket }

// ObjectKey returns the S3 object key that holds key: the prefix and the key.
func (s *Store) ObjectKey(key string) (string, error) { return s.core.Name(key) }

// Options returns the effective options, defaults filled in.
func (s *Store) Options() Options { return s.opts }
