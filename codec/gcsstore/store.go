package gcsstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

var _ driver.Store = (*Store)(nil)

// Defaults for Options fields left zero.
const (
	DefaultPartSize       = 16 << 20
	DefaultConcurrency    = 4
	DefaultTouchAfter     = 24 * time.Hour
	DefaultAttemptTimeout = 2 * time.Minute
)

// MinPartSize is the smallest Options.PartSize.
const MinPartSize = 256 << 10

// GCS composes at most 32 objects in one request; two levels of compose join up to
// maxParts parts, and larger objects use larger parts.
const (
	maxComposeSources = 32
	maxParts          = maxComposeSources * maxComposeSources
)

// uploadsDir holds the parts of uploads in progress, under the prefix: a lifecycle
// rule on it removes the parts a crashed worker left (see OPERATIONS.md).
const uploadsDir = ".uploads/"

// Options configures a Store. The zero value means the defaults; a zero or negative
// Concurrency, TouchAfter or AttemptTimeout means its default.
type Options struct {
	// Prefix is prepended to every key, e.g. "longhaul" stores key "v1/ns/sha256/ab.."
	// as object "longhaul/v1/ns/sha256/ab..". A trailing slash is optional.
	Prefix string
	// PartSize is the largest object sent in one upload request, and the part size of
	// larger ones, which are uploaded as parts in parallel and composed into one
	// object; default 16 MiB, at least 256 KiB. Get fetches ranges of this size.
	PartSize int64
	// Concurrency bounds the parts (Put) or ranges (Get) in flight for one object;
	// default 4. Each costs up to PartSize of memory when the source is not an
	// io.ReaderAt, and always on Get.
	Concurrency int
	// StorageClass of new objects; "" is the bucket's default.
	StorageClass string
	// TouchAfter is the age of an object's customTime after which reusing it (Touch, or
	// a Put of an existing key) sets customTime to now; default 24h.
	TouchAfter time.Duration
	// Retry bounds the retries of each request (one part, one range); zero value =
	// codec's defaults. The client's own retries are turned off for the store's calls.
	Retry driver.RetryPolicy
	// AttemptTimeout bounds one request with its body (one part or range); default 2
	// minutes. Streamed Get bodies are bounded by the Get context only.
	AttemptTimeout time.Duration
	// Logger receives retries, refreshes and clean-ups; default slog.Default().
	Logger *slog.Logger
}

// Store is a codec.Store in a Google Cloud Storage bucket. It is safe for concurrent
// use.
type Store struct {
	bucket *storage.BucketHandle // with the client's retries off
	loc    blobxfer.Location
	opts   Options
	log    *slog.Logger
	retry  *blobxfer.Retrier
	stats  counters
}

// New returns a Store on bucket. The client decides endpoint and credentials (for
// fake-gcs-server: option.WithEndpoint, option.WithoutAuthentication and
// storage.WithJSONReads).
func New(client *storage.Client, bucket string, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("gcsstore: client is nil")
	}
	loc, err := blobxfer.NewLocation("gcsstore", "gs", "bucket", bucket, opts.Prefix)
	if err != nil {
		return nil, err
	}
	opts.PartSize = cmp.Or(opts.PartSize, DefaultPartSize)
	if opts.PartSize < MinPartSize {
		return nil, fmt.Errorf("gcsstore: part size %d under the minimum %d", opts.PartSize, MinPartSize)
	}
	opts.Concurrency = blobxfer.OrDefault(opts.Concurrency, DefaultConcurrency)
	opts.TouchAfter = blobxfer.OrDefault(opts.TouchAfter, DefaultTouchAfter)
	opts.AttemptTimeout = blobxfer.OrDefault(opts.AttemptTimeout, DefaultAttemptTimeout)
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	s := &Store{
		bucket: client.Bucket(bucket).Retryer(storage.WithPolicy(storage.RetryNever)),
		loc:    loc,
		opts:   opts,
		log:    opts.Logger,
	}
	s.retry = &blobxfer.Retrier{Policy: opts.Retry, AttemptTimeout: opts.AttemptTimeout, Classify: classify,
		Name: "gcsstore", Store: s, Log: s.log, Retries: &s.stats.retries}
	return s, nil
}

// String names the store in errors and logs, e.g. "gcsstore(gs://bucket/prefix/)".
func (s *Store) String() string { return s.loc.String() }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.loc.Bucket }

// ObjectName returns the name of the object that holds key: the prefix and the key.
func (s *Store) ObjectName(key string) (string, error) { return s.loc.Name(key) }

// Options returns the effective options, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// attrs returns an object's attributes; a missing object is codec.ErrNotFound.
func (s *Store) attrs(ctx context.Context, name string) (*storage.ObjectAttrs, error) {
	var attrs *storage.ObjectAttrs
	err := s.retry.Do(ctx, "attrs", name, func(ctx context.Context) error {
		var err error
		attrs, err = s.bucket.Object(name).Attrs(ctx)
		return err
	})
	return attrs, err
}

// age returns the time an object's age counts from: its customTime, else its creation.
func age(attrs *storage.ObjectAttrs) time.Time {
	if !attrs.CustomTime.IsZero() {
		return attrs.CustomTime
	}
	return attrs.Created
}
