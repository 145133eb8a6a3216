package azblobstore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

var _ driver.Store = (*Store)(nil)

// Azure limits on block blobs: a Put Blob of up to 5000 MiB, blocks of up to 4000 MiB,
// at most 50,000 blocks.
const (
	minPartSize  = 64 << 10
	maxPartSize  = 4000 << 20
	maxBlocks    = 50000
	refreshedKey = "longhaulrefreshed"
)

// Options configures a Store. The zero value means the defaults; a zero or negative
// Concurrency, TouchAfter or AttemptTimeout means its default.
type Options struct {
	// Prefix is prepended to every key, e.g. "longhaul" stores key "v2/ns/blake3/ab.."
	// as blob "longhaul/v2/ns/blake3/ab..". A trailing slash is optional.
	Prefix string
	// PartSize is the largest blob sent in one Put Blob request, and the block size of
	// larger ones, which are staged in parallel and committed with one Put Block List;
	// default 16 MiB, between 64 KiB and 4000 MiB. Blobs that would need more than
	// 50,000 blocks use larger blocks. Get fetches ranges of this size.
	PartSize int64
	// Concurrency bounds the blocks (Put) or ranges (Get) in flight for one blob;
	// default 4. Each costs up to PartSize of memory when the source is not an
	// io.ReaderAt, and always on Get.
	Concurrency int
	// AccessTier of new blobs; "" is the account's default (Hot or Cool). Archive
	// cannot be read or refreshed and is refused.
	AccessTier blob.AccessTier
	// TouchAfter is the age (Last-Modified) after which reusing a blob (Touch, or a Put
	// of an existing key) rewrites its metadata, which moves Last-Modified to now;
	// default 24h.
	TouchAfter time.Duration
	// Retry bounds the retries of each request (one block, one range); zero value =
	// codec's defaults. The client's own retries are turned off for the store's calls.
	Retry driver.RetryPolicy
	// AttemptTimeout bounds one request with its body (one block or range); default 2
	// minutes. Streamed Get bodies are bounded by the Get context only.
	AttemptTimeout time.Duration
	// Logger receives retries and refreshes; default slog.Default().
	Logger *slog.Logger
}

// Store is a driver.Store in an Azure Blob Storage container. It is safe for concurrent
// use.
type Store struct {
	container *container.Client
	core      *blobxfer.Core
	opts      Options
	ops       blobxfer.Ops[blobInfo]
	stats     counters
}

// New returns a Store on a container of the client's storage account. The client
// decides the account URL and credentials (for Azurite:
// azblob.NewClientWithSharedKeyCredential on http://127.0.0.1:10000/devstoreaccount1).
func New(client *azblob.Client, containerName string, opts Options) (*Store, error) {
	spec := blobxfer.Spec{Driver: "azblobstore", Scheme: "azblob", Kind: "container", Noun: "blob", MinPartSize: minPartSize,
		MaxPartSize: maxPartSize, Classify: classify}
	core, err := blobxfer.NewCore(spec, client, containerName, blobxfer.Options{Prefix: opts.Prefix, PartSize: opts.PartSize,
		Concurrency: opts.Concurrency, TouchAfter: opts.TouchAfter, Retry: opts.Retry, AttemptTimeout: opts.AttemptTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	if opts.AccessTier == blob.AccessTierArchive {
		return nil, errors.New("azblobstore: access tier Archive: archived blobs can be neither read nor refreshed")
	}
	c := core.Opts
	opts.PartSize, opts.Concurrency, opts.TouchAfter, opts.AttemptTimeout, opts.Logger = c.PartSize, c.Concurrency, c.TouchAfter,
		c.AttemptTimeout, c.Logger
	s := &Store{container: client.ServiceClient().NewContainerClient(containerName), core: core, opts: opts}
	s.ops = blobxfer.Ops[blobInfo]{Stat: s.props, Info: blobInfo.info, Refresh: s.refresh, Lost: alreadyExists}
	return s, nil
}

// Get opens the blob for reading. The reader's Size reports the blob's length. The
// body is streamed; in a blob over PartSize the parts after the first are fetched as
// parallel ranges (Concurrency in flight, each retried on its own) while the first
// streams, all of the version (ETag) the first request saw. A body that breaks off is
// resumed from where it stopped; one that cannot be completed is an error
// (io.ErrUnexpectedEOF), never a short read. The reader stops with ctx; Close releases
// it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.core.Get(ctx, key, func(ctx context.Context, name string) (blobxfer.First, error) {
		// One attempt: the first PartSize bytes, or all when ranges are not fetched in
		// parallel; later ranges are read If-Match the version it saw.
		bc := s.container.NewBlobClient(name)
		var rng blob.HTTPRange
		if s.opts.Concurrency > 1 {
			rng.Count = s.opts.PartSize
		}
		resp, err := bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{Range: rng})
		if bloberror.HasCode(err, bloberror.InvalidRange) {
			resp, err = bc.DownloadStream(noRetry(ctx), nil) // an empty blob has no byte 0
		}
		if err != nil {
			return blobxfer.First{}, err
		}
		size, err := totalSize(resp)
		if err != nil {
			resp.Body.Close()
			return blobxfer.First{}, err
		}
		cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(resp.ETag)}}
		return blobxfer.First{Body: resp.Body, End: deref(resp.ContentLength), Size: size,
			Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
				r, err := bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{
					Range: blob.HTTPRange{Offset: off, Count: end - off}, AccessConditions: cond})
				return r.Body, err
			}}, nil
	})
}

// Touch reports the blob's size and, when its Last-Modified is older than TouchAfter,
// rewrites its metadata (Set Blob Metadata), which moves Last-Modified to now: a
// lifecycle rule on daysAfterModificationGreaterThan then counts from this use, not
// from the first write. The bytes are not rewritten. A missing blob is
// driver.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	return blobxfer.Touch(ctx, s.core, s.ops, key)
}

// Put stores size bytes from src under key unless the key already exists; created
// reports whether this call wrote the blob. An existing blob of that size is not read
// from src, only refreshed (see Touch). Blobs up to PartSize go up in one Put Blob,
// larger ones as blocks staged in parallel and committed by one Put Block List. Every
// Put Blob and Put Block carries the CRC64 of its body (x-ms-content-crc64), so Azure
// rejects a body corrupted on the way (Crc64Mismatch). The blob is created only by the final request, with If-None-Match:
// *: nothing partial is ever visible (staged blocks are not part of any blob until
// committed), and a concurrent writer of the same key is never overwritten.
//
// When src is an io.ReaderAt (bytes.Reader, os.File) it is read in place at [0, size),
// blocks in parallel; otherwise it is read once, sequentially, each block buffered.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return blobxfer.Put(ctx, s.core, s.ops, key, size, func(ctx context.Context, name string, old *blobInfo) error {
		// Create only (If-None-Match: *), or replace that version only (If-Match).
		cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)}}
		if old != nil {
			cond = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(old.etag)}}
		}
		if size > s.opts.PartSize {
			return s.putBlocks(ctx, name, src, size, cond)
		}
		return s.putSingle(ctx, name, src, size, cond)
	})
}

// noRetry turns off the client's retry policy for one call: retries live in the
// store's Retrier alone, so they are bounded and counted in one place.
func noRetry(ctx context.Context) context.Context {
	return policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
}

// blobInfo is what Get Blob Properties tells about a blob.
type blobInfo struct {
	size    int64
	modTime time.Time
	etag    *string
}

// info is what Touch reports of a blob.
func (i blobInfo) info() driver.Info { return driver.Info{Size: i.size, ModTime: i.modTime} }

// props returns a blob's size and age; a missing blob is driver.ErrNotFound.
func (s *Store) props(ctx context.Context, name string) (blobInfo, error) {
	var info blobInfo
	err := s.core.Retrier.Do(ctx, "get properties", name, func(ctx context.Context) error {
		p, err := s.container.NewBlobClient(name).GetProperties(noRetry(ctx), nil)
		if err != nil {
			return err
		}
		info = blobInfo{size: deref(p.ContentLength), modTime: deref(p.LastModified), etag: (*string)(p.ETag)}
		return nil
	})
	return info, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// String names the store in errors and logs, e.g. "azblobstore(azblob://container/prefix/)".
func (s *Store) String() string { return s.core.String() }

// Container returns the container name.
func (s *Store) Container() string { return s.core.Bucket }

// BlobName returns the name of the blob that holds key: the prefix and the key.
func (s *Store) BlobName(key string) (string, error) { return s.core.Name(key) }

// Options returns the effective options, defaults filled in.
func (s *Store) Options() Options { return s.opts }
