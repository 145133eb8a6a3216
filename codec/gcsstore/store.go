package gcsstore

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

var _ driver.Store = (*Store)(nil)

// minPartSize is the smallest Options.PartSize.
const minPartSize = 256 << 10

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
	// Prefix is prepended to every key, e.g. "longhaul" stores key "v2/ns/blake3/ab.."
	// as object "longhaul/v2/ns/blake3/ab..". A trailing slash is optional.
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

// Store is a driver.Store in a Google Cloud Storage bucket. It is safe for concurrent
// use.
type Store struct {
	bucket *storage.BucketHandle // with the client's retries off
	core   *blobxfer.Core
	opts   Options
	ops    blobxfer.Ops[*storage.ObjectAttrs]
	stats  counters
}

// New returns a Store on bucket. The client decides endpoint and credentials (for
// fake-gcs-server: option.WithEndpoint, option.WithoutAuthentication and
// storage.WithJSONReads).
func New(client *storage.Client, bucket string, opts Options) (*Store, error) {
	spec := blobxfer.Spec{Driver: "gcsstore", Scheme: "gs", Kind: "bucket", Noun: "object", MinPartSize: minPartSize, Classify: classify}
	core, err := blobxfer.NewCore(spec, client, bucket, blobxfer.Options{Prefix: opts.Prefix, PartSize: opts.PartSize,
		Concurrency: opts.Concurrency, TouchAfter: opts.TouchAfter, Retry: opts.Retry, AttemptTimeout: opts.AttemptTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	c := core.Opts
	opts.PartSize, opts.Concurrency, opts.TouchAfter, opts.AttemptTimeout, opts.Logger = c.PartSize, c.Concurrency, c.TouchAfter,
		c.AttemptTimeout, c.Logger
	s := &Store{bucket: client.Bucket(bucket).Retryer(storage.WithPolicy(storage.RetryNever)), core: core, opts: opts}
	s.ops = blobxfer.Ops[*storage.ObjectAttrs]{Stat: s.attrs, Info: info, Refresh: s.refresh,
		Lost: preconditionFailed}
	return s, nil
}

// Get opens the object for reading. The reader's Size reports the object's length. The
// body is streamed; in an object over PartSize the parts after the first are fetched
// as parallel ranges (Concurrency in flight, each retried on its own) while the first
// streams. A body that breaks off is resumed from where it stopped; one that cannot be
// completed is an error (io.ErrUnexpectedEOF), never a short read. The reader stops
// with ctx; Close releases it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.core.Get(ctx, key, func(ctx context.Context, name string) (blobxfer.First, error) {
		// One attempt: the first PartSize bytes, or all when ranges are not fetched in
		// parallel.
		n := int64(-1)
		if s.opts.Concurrency > 1 {
			n = s.opts.PartSize
		}
		obj := s.bucket.Object(name)
		r, err := obj.NewRangeReader(ctx, 0, n)
		if isStatus(err, http.StatusRequestedRangeNotSatisfiable) {
			r, err = obj.NewReader(ctx) // an empty object has no byte 0
		}
		if err != nil {
			return blobxfer.First{}, err
		}
		// Ranges are not pinned to the first response's generation: the bytes under a key
		// are its content address, and fake-gcs-server gives an object a new generation on
		// a metadata update (the customTime refresh), which would fail a pinned read.
		return blobxfer.First{Body: r, End: r.Attrs.StartOffset + r.Remain(), Size: r.Attrs.Size,
			Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
				return obj.NewRangeReader(ctx, off, end-off)
			}}, nil
	})
}

// Touch reports the object's size and, when its customTime is older than TouchAfter,
// sets customTime to now: a lifecycle rule on daysSinceCustomTime then counts from this
// use, not from the first write. Only metadata changes; the bytes are not rewritten. A
// missing object is driver.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	return blobxfer.Touch(ctx, s.core, s.ops, key)
}

// Put stores size bytes from src under key unless the key already exists; created
// reports whether this call wrote the object. An existing object of that size is not
// read from src, only refreshed (see Touch). Objects up to PartSize go up in one
// request, larger ones as parts uploaded in parallel and composed into the object.
// Every upload carries the CRC32C of its bytes, so GCS rejects a body corrupted on the
// way, and the object is created only by the final request (an upload or a
// compose) with the precondition that it does not exist yet: nothing partial is ever
// visible, and a concurrent writer of the same key is never overwritten.
//
// When src is an io.ReaderAt (bytes.Reader, os.File) it is read in place at [0, size),
// parts in parallel; otherwise it is read once, sequentially, each part buffered.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return blobxfer.Put(ctx, s.core, s.ops, key, size, func(ctx context.Context, name string, old **storage.ObjectAttrs) error {
		cond := storage.Conditions{DoesNotExist: true} // create only
		if old != nil {
			cond = storage.Conditions{GenerationMatch: (*old).Generation} // replace that generation only
		}
		if size > s.opts.PartSize {
			return s.putComposed(ctx, name, src, size, cond)
		}
		return s.putSingle(ctx, name, src, size, cond)
	})
}

// attrs returns an object's attributes; a missing object is driver.ErrNotFound.
func (s *Store) attrs(ctx context.Context, name string) (*storage.ObjectAttrs, error) {
	var attrs *storage.ObjectAttrs
	err := s.core.Retrier.Do(ctx, "attrs", name, func(ctx context.Context) error {
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

// info is what Touch reports of an object: its size and age.
func info(attrs *storage.ObjectAttrs) driver.Info {
	return driver.Info{Size: attrs.Size, ModTime: age(attrs)}
}

// String names the store in errors and logs, e.g. "gcsstore(gs://bucket/prefix/)".
func (s *Store) String() string { return s.core.String() }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.core.Bucket }

// ObjectName returns the name of the object that holds key: the prefix and the key.
func (s *Store) ObjectName(key string) (string, error) { return s.core.Name(key) }

// Options returns the effective options, defaults filled in.
func (s *Store) Options() Options { return s.opts }
