// Package temporals3 reads the claims Temporal's own S3 External Storage driver
// (go.temporal.io/sdk/contrib/aws/s3driver and its peers in other SDKs) left in history,
// so a team switching to longhaul keeps decoding them. It is its own package so that
// codec and codec/extstore do not link the AWS SDK; codec/foreign lists its sibling
// readers.
package temporals3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/awsintegrity"
)

// Temporal's own S3 External Storage driver (go.temporal.io/sdk/contrib/aws/s3driver and
// its Java, Python, .NET peers) writes the serialized commonpb.Payload, uncompressed, to
// S3 under "v0/ns/<ns>/wt/<type>/wi/<id>/ri/<run>/d/sha256/<hex>" (activity targets:
// "/at/<type>/ai/<id>/"; segments percent-encoded, "null" when empty; "v0/d/sha256/<hex>"
// without a target), and claims {bucket, key, hash_algorithm "sha256", hash_value
// <hex SHA-256 of the serialized payload>}.
const (
	s3ClaimBucket   = "bucket"
	s3ClaimKey      = "key"
	s3ClaimHashAlgo = "hash_algorithm"
	s3ClaimHash     = "hash_value"

	// DriverName is the default name of Temporal's S3 driver.
	DriverName = "aws.s3driver"
	// DefaultMaxSize is the default bound of one object read: Temporal's S3 driver
	// refuses payloads over 50 MiB by default.
	DefaultMaxSize = 50 << 20
)

// GetObjectAPI is the part of *s3.Client the Reader uses.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options configures a Reader.
type Options struct {
	// Client reads the objects; required (an *s3.Client).
	Client GetObjectAPI
	// Buckets the claims may name; required. A claim naming another bucket is refused:
	// claims come from history, and history is not trusted to pick what we read.
	Buckets []string
	// Name is the driver name the claims were written under; default "aws.s3driver".
	Name string
	// MaxSize bounds one object; default DefaultMaxSize.
	MaxSize int64
	// Retry is the policy for transient S3 failures; zero value = codec's defaults.
	Retry driver.RetryPolicy
}

// Reader reads the claims Temporal's S3 External Storage driver left in history, so a
// team can switch to longhaul without losing them. It is both:
//   - a converter.StorageDriver (Retrieve only; Store fails) to list in
//     ExternalStorage.Drivers under the old driver's name, next to the Driver that stores
//     new payloads (the SDK resolves every External Storage reference before the data
//     converter sees it, by driver name);
//   - a codec.Reader for codec.Options.Readers, so the longhaul codec server decodes them.
//
// It parses a claim into a codec.Locator and opens the object; the codec's one read path
// does the rest for both uses: the key must lie canonically inside the namespace it names
// (and, in the codec server, be the namespace served), reads are bounded by MaxSize, the
// object is verified against hash_value before it is unmarshalled (a mismatch, or the AWS
// SDK's own checksum failure, is driver.ErrCorrupt and never retried).
type Reader struct {
	opts  Options
	codec *codec.Codec // Retrieve's one path: this reader as its only Reader
}

var (
	_ converter.StorageDriver = (*Reader)(nil)
	_ codec.Reader            = (*Reader)(nil)
)

// New returns a reader of Temporal S3 driver claims.
func New(opts Options) (*Reader, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("temporals3: Options.Client is nil")
	case len(opts.Buckets) == 0:
		return nil, errors.New("temporals3: Options.Buckets is empty")
	case opts.MaxSize < 0:
		return nil, fmt.Errorf("temporals3: Options.MaxSize is negative (%d)", opts.MaxSize)
	}
	opts.Name = cmp.Or(opts.Name, DriverName)
	opts.MaxSize = cmp.Or(opts.MaxSize, DefaultMaxSize)
	r := &Reader{opts: opts}
	c, err := codec.New(noStore{}, codec.Options{MaxSize: opts.MaxSize, CacheBytes: -1, Readers: []codec.Reader{r}})
	if err != nil {
		return nil, fmt.Errorf("temporals3: %w", err)
	}
	r.codec = c
	return r, nil
}

// Name implements converter.StorageDriver: the name the claims were written under.
func (r *Reader) Name() string { return r.opts.Name }

// Type implements converter.StorageDriver.
func (r *Reader) Type() string { return "longhaul.temporal-s3-reader" }

// Store implements converter.StorageDriver; this driver only reads.
func (r *Reader) Store(converter.StorageDriverStoreContext, []*commonpb.Payload) ([]converter.StorageDriverClaim, error) {
	return nil, fmt.Errorf("temporals3 %s: %w", r.opts.Name, errReadOnly)
}

// Retrieve implements converter.StorageDriver through the codec's one read path. The SDK
// passes no namespace to Retrieve, so a claim is read from the namespace its key names.
func (r *Reader) Retrieve(rc converter.StorageDriverRetrieveContext, claims []converter.StorageDriverClaim) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(claims))
	limiter := rc.GetLimiter()
	ctx := rc.Context
	if ctx == nil {
		ctx = context.Background()
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(codec.DefaultConcurrency)
	for i := range claims {
		g.Go(func() error {
			return limiter.Permit(ctx, claims[i], func() error {
				p, err := r.codec.ResolveStorage(ctx, codec.StorageReference{DriverName: r.opts.Name, ClaimData: claims[i].ClaimData})
				out[i] = p
				return err
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("temporals3 %s retrieve: %w", r.opts.Name, err)
	}
	return out, nil
}

// Parse implements codec.Reader: an External Storage reference of this driver name with
// an S3 claim.
func (r *Reader) Parse(c codec.Candidate) (codec.Locator, bool, error) {
	sr := c.Storage
	if sr == nil || sr.DriverName != r.opts.Name || sr.ClaimData[s3ClaimHashAlgo] == "" || sr.ClaimData[s3ClaimKey] == "" {
		return codec.Locator{}, false, nil
	}
	loc, err := r.parseClaim(sr.ClaimData)
	loc.Kind = codec.KindTemporalS3
	return loc, true, err
}

// parseClaim validates a claim: sha256, an allowed bucket, and a v0 key ending in the hash
// whose segments are canonical; a key under "v0/ns/<ns>/" names the Locator's namespace.
func (r *Reader) parseClaim(claim map[string]string) (codec.Locator, error) {
	bucket, key, sum := claim[s3ClaimBucket], claim[s3ClaimKey], claim[s3ClaimHash]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: Temporal S3 claim: %s", codec.ErrInvalidReference, fmt.Sprintf(format, args...))
	}
	switch {
	case claim[s3ClaimHashAlgo] != "sha256":
		return codec.Locator{}, bad("hash_algorithm is %q, want \"sha256\"", trunc(claim[s3ClaimHashAlgo]))
	case !isContentAddress(sum):
		return codec.Locator{}, bad("hash_value %q is not 64 lowercase hex digits", trunc(sum))
	case !slices.Contains(r.opts.Buckets, bucket):
		return codec.Locator{}, bad("bucket %q is not in Options.Buckets", trunc(bucket))
	case !strings.HasPrefix(key, "v0/") || !strings.HasSuffix(key, "/d/sha256/"+sum):
		return codec.Locator{}, bad("key %q is not v0/.../d/sha256/<hash_value>", trunc(key))
	}
	nsIndex := -1
	if strings.HasPrefix(key, "v0/ns/") {
		nsIndex = 2
	}
	ns, err := codec.ContainedKey(key, nsIndex, "")
	if err != nil {
		return codec.Locator{}, fmt.Errorf("Temporal S3 claim: %w", err)
	}
	return codec.Locator{
		Kind: codec.KindTemporalS3, Namespace: ns, Bucket: bucket, Key: key, Size: -1, Max: r.opts.MaxSize,
		Algorithm: "sha256", Digest: sum, RawSize: -1, Compression: codec.NoCompression, Form: codec.FormPayload,
	}, nil
}

// Open implements codec.Reader: GetObject, retried until a body starts.
func (r *Reader) Open(ctx context.Context, loc codec.Locator) (io.ReadCloser, error) {
	var body io.ReadCloser
	err := driver.Retry(ctx, r.opts.Retry, func(ctx context.Context) error {
		var err error
		body, err = r.get(ctx, loc.Bucket, loc.Key)
		return err
	}, nil)
	return body, err
}

func (r *Reader) get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := r.opts.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("%w: %v", driver.ErrNotFound, err)
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 &&
			re.HTTPStatusCode() != 429 && re.HTTPStatusCode() != 408 {
			return nil, driver.Permanent(fmt.Errorf("%w: %v", codec.ErrRefused, err)) // denied, bad request
		}
		return nil, err
	}
	return &body{ReadCloser: out.Body, size: aws.ToInt64(out.ContentLength)}, nil
}

// body is an object's body: a driver.Sizer, and the AWS SDK's checksum failure (which it
// reports from the last Read) is driver.ErrCorrupt.
type body struct {
	io.ReadCloser
	size int64
}

func (b *body) Size() int64 {
	if b.size <= 0 {
		return -1 // an absent Content-Length reads as 0
	}
	return b.size
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	return n, awsintegrity.Classify(err)
}

// noStore is the Store of Retrieve's codec: every byte it reads comes from the Reader.
type noStore struct{}

func (noStore) Put(context.Context, string, io.Reader, int64) (bool, error) {
	return false, driver.Permanent(errReadOnly)
}
func (noStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, driver.Permanent(errReadOnly)
}
func (noStore) Touch(context.Context, string) (driver.Info, error) {
	return driver.Info{}, driver.Permanent(errReadOnly)
}

func trunc(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "..."
}

// isContentAddress reports whether s is 64 lowercase hex digits, the grammar of the
// codec's content addresses.
func isContentAddress(s string) bool {
	_, err := driver.Key(codec.DefaultNamespace, driver.SHA256, s)
	return err == nil
}

// errReadOnly is what Store returns: this driver only reads what another driver wrote.
var errReadOnly = errors.New("read-only driver: list a driver that stores (e.g. extstore.Driver) and select it with extstore.Always")
