package s3store

import (
	"context"
	"errors"
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

// Defaults for Options fields left zero.
const (
	DefaultPartSize       = blobxfer.DefaultPartSize
	DefaultConcurrency    = blobxfer.DefaultConcurrency
	DefaultTouchAfter     = blobxfer.DefaultTouchAfter
	DefaultAttemptTimeout = blobxfer.DefaultAttemptTimeout
)

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
	// Prefix is prepended to every key, e.g. "longhaul" stores key "v1/ns/sha256/ab.."
	// as "longhaul/v1/ns/sha256/ab..". A trailing slash is optional.
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
}

// Store is a codec.Store in an S3 bucket (AWS or any S3-compatible server). It is safe
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
	if client == nil {
		return nil, errors.New("s3store: client is nil")
	}
	spec := blobxfer.Spec{Driver: "s3store", Scheme: "s3", Kind: "bucket", Noun: "object", MinPartSize: minPartSize,
		MaxPartSize: maxPartSize, Classify: classify}
	core, err := blobxfer.NewCore(spec, bucket, blobxfer.Options{Prefix: opts.Prefix, PartSize: opts.PartSize,
		Concurrency: opts.Concurrency, TouchAfter: opts.TouchAfter, Retry: opts.Retry, AttemptTimeout: opts.AttemptTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	c := core.Opts
	opts.PartSize, opts.Concurrency, opts.TouchAfter, opts.AttemptTimeout, opts.Logger = c.PartSize, c.Concurrency, c.TouchAfter,
		c.AttemptTimeout, c.Logger
	if opts.KMSKeyID != "" && opts.ServerSideEncryption == "" {
		opts.ServerSideEncryption = types.ServerSideEncryptionAwsKms
	}
	s := &Store{client: client, core: core, opts: opts}
	core.Retrier.Explain = s.refusalHint
	s.ops = blobxfer.Ops[objectInfo]{Stat: s.head, Info: objectInfo.info, Refresh: s.refresh}
	return s, nil
}

// String names the store in errors and logs, e.g. "s3store(s3://bucket/prefix/)".
func (s *Store) String() string { return s.core.String() }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.core.Bucket }

// ObjectKey returns the S3 object key that holds key: the prefix and the key.
func (s *Store) ObjectKey(key string) (string, error) { return s.core.Name(key) }

// Options returns the effective options, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// objectInfo is what HEAD tells about an object.
type objectInfo struct {
	size    int64
	modTime time.Time
}

// info is what Touch reports of an object.
func (i objectInfo) info() driver.Info { return driver.Info{Size: i.size, ModTime: i.modTime} }

// head returns an object's size and age; a missing object is codec.ErrNotFound.
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
