// Package temporals3 reads the claims Temporal's own S3 External Storage driver
// (go.temporal.io/sdk/contrib/aws/s3driver and its peers in other SDKs) left in history,
// so a team switching to longhaul keeps decoding them. It is its own package so that
// codec/extstore does not link the AWS SDK.
package temporals3

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/awsintegrity"
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
	Retry codec.RetryPolicy
}

// Reader reads the claims Temporal's S3 External Storage driver left in history, so a
// team can switch to longhaul without losing them. It is both:
//   - a converter.StorageDriver (Retrieve only; Store fails) to list in
//     ExternalStorage.Drivers under the old driver's name, next to the Driver that stores
//     new payloads (the SDK resolves every External Storage reference before the data
//     converter sees it, by driver name);
//   - a codec.Reader for codec.Options.Readers, so the longhaul codec server decodes them.
//
// Every object is read through MaxSize and verified against hash_value before it is
// unmarshalled; a mismatch is codec.ErrCorrupt.
type Reader struct {
	opts Options
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
	return &Reader{opts: opts}, nil
}

// Name implements converter.StorageDriver: the name the claims were written under.
func (r *Reader) Name() string { return r.opts.Name }

// Type implements converter.StorageDriver.
func (r *Reader) Type() string { return "longhaul.temporal-s3-reader" }

// Store implements converter.StorageDriver; this driver only reads.
func (r *Reader) Store(converter.StorageDriverStoreContext, []*commonpb.Payload) ([]converter.StorageDriverClaim, error) {
	return nil, fmt.Errorf("temporals3 %s: %w", r.opts.Name, errReadOnly)
}

// Retrieve implements converter.StorageDriver.
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
				p, err := r.read(ctx, "", claims[i].ClaimData)
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

// Recognize implements codec.Reader: an External Storage reference of this driver name
// with an S3 claim.
func (r *Reader) Recognize(p *commonpb.Payload) bool {
	if !codec.IsStorageReference(p) {
		return false
	}
	ref, err := codec.ParseStorageReference(p)
	return err == nil && ref.DriverName == r.opts.Name && ref.ClaimData[s3ClaimHashAlgo] != "" && ref.ClaimData[s3ClaimKey] != ""
}

// Read implements codec.Reader. A key that names a namespace must name namespace: a codec
// server authorized for one namespace does not read another's objects.
func (r *Reader) Read(ctx context.Context, namespace string, p *commonpb.Payload) (*commonpb.Payload, error) {
	ref, err := codec.ParseStorageReference(p)
	if err != nil {
		return nil, err
	}
	return r.read(ctx, namespace, ref.ClaimData)
}

func (r *Reader) read(ctx context.Context, namespace string, claim map[string]string) (*commonpb.Payload, error) {
	bucket, key, sum, err := r.parseClaim(claim, namespace)
	if err != nil {
		return nil, err
	}
	var data []byte
	err = codec.Retry(ctx, r.opts.Retry, func(ctx context.Context) error {
		data, err = r.get(ctx, bucket, key)
		return err
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("s3 bucket %s key %s: %w", bucket, key, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%w: s3 bucket %s key %s: sha256 is %x, claim says %s", codec.ErrCorrupt, bucket, key, got, sum)
	}
	out := &commonpb.Payload{}
	if err := proto.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("%w: s3 bucket %s key %s: unmarshal payload: %v", codec.ErrCorrupt, bucket, key, err)
	}
	return out, nil
}

// parseClaim validates a claim: sha256, an allowed bucket, a v0 key ending in the hash
// and, when namespace is set, naming no other namespace.
func (r *Reader) parseClaim(claim map[string]string, namespace string) (bucket, key, sum string, err error) {
	bucket, key, sum = claim[s3ClaimBucket], claim[s3ClaimKey], claim[s3ClaimHash]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: Temporal S3 claim: %s", codec.ErrInvalidReference, fmt.Sprintf(format, args...))
	}
	switch {
	case claim[s3ClaimHashAlgo] != "sha256":
		return "", "", "", bad("hash_algorithm is %q, want \"sha256\"", trunc(claim[s3ClaimHashAlgo]))
	case !isContentAddress(sum):
		return "", "", "", bad("hash_value %q is not 64 lowercase hex digits", trunc(sum))
	case !slices.Contains(r.opts.Buckets, bucket):
		return "", "", "", bad("bucket %q is not in Options.Buckets", trunc(bucket))
	case len(key) > 1024 || !strings.HasPrefix(key, "v0/") || !strings.HasSuffix(key, "/d/sha256/"+sum):
		return "", "", "", bad("key %q is not v0/.../d/sha256/<hash_value>", trunc(key))
	}
	if namespace != "" && strings.HasPrefix(key, "v0/ns/") {
		seg, _, _ := strings.Cut(strings.TrimPrefix(key, "v0/ns/"), "/")
		if ns, err := url.PathUnescape(seg); err != nil || ns != namespace {
			return "", "", "", bad("key is for namespace %q, decoding for %q", trunc(seg), namespace)
		}
	}
	return bucket, key, sum, nil
}

// get reads one object through MaxSize; bytes past it are an error, not a truncation.
func (r *Reader) get(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := r.opts.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("%w: %v", codec.ErrNotFound, err)
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 && re.HTTPStatusCode() != 429 {
			return nil, codec.Permanent(err) // denied, bad request: asking again will not help
		}
		return nil, err
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > r.opts.MaxSize {
		return nil, codec.Permanent(fmt.Errorf("%w: object is %d bytes, over the %d-byte Options.MaxSize", codec.ErrCorrupt, n, r.opts.MaxSize))
	}
	var buf bytes.Buffer
	if n := aws.ToInt64(out.ContentLength); n > 0 {
		buf.Grow(int(n)) // bounded by MaxSize above
	}
	if _, err := buf.ReadFrom(io.LimitReader(out.Body, r.opts.MaxSize+1)); err != nil {
		// The SDK's own checksum check (clients from config.LoadDefaultConfig) fails at
		// the body's end: a corrupt object, not an outage.
		return nil, awsintegrity.Classify(err)
	}
	if int64(buf.Len()) > r.opts.MaxSize {
		return nil, codec.Permanent(fmt.Errorf("%w: object is over the %d-byte Options.MaxSize", codec.ErrCorrupt, r.opts.MaxSize))
	}
	return buf.Bytes(), nil
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
	_, err := codec.BlobKey(codec.DefaultNamespace, s)
	return err == nil
}

// errReadOnly is what Store returns: this driver only reads what another driver wrote.
var errReadOnly = errors.New("read-only driver: list a driver that stores (e.g. extstore.Driver) and select it with extstore.Always")
