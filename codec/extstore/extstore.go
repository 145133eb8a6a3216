// Package extstore is a converter.StorageDriver for the Temporal SDK's External Storage
// (client.Options.ExternalStorage) over any longhaul driver.Store.
//
// It stores a payload exactly as the longhaul codec does: the deterministic serialization
// of the whole payload, zstd-compressed when that saves at least 10%, under its content
// address ("v2/{namespace}/blake3/{hex}", or "v1/{namespace}/sha256/{hex}" with
// codec.Options.Hash SHA256) — so the codec and the driver share one set of blobs, and a
// team can switch between them without moving data. Equal payloads are stored once across
// runs and workflows (dedupe), and reusing a blob refreshes its age for age-based
// retention. Reads are verified against the digest in the claim and bounded; a mismatch
// is driver.ErrCorrupt and never returns bytes.
//
// # Claim format
//
// The SDK leaves in history a "json/protobuf" payload of
// temporal.api.sdk.v1.ExternalStorageReference{driver_name, claim_data}. This driver's
// claim_data (all values strings, pinned by testdata/claim_v*.golden.json):
//
//	longhaul     the format version, "2" (BLAKE3) or "1" (SHA256); marks the claim as longhaul's
//	namespace    the namespace in the blob key (the SDK retrieves without one)
//	hash         v2: the hash of the address, "blake3" (or "sha256")
//	digest       v2: lowercase hex digest of the stored bytes
//	sha256       v1: lowercase hex SHA-256 of the stored bytes
//	size         stored (possibly compressed) bytes, decimal
//	rawSize      bytes of the serialized commonpb.Payload, decimal
//	compression  "zstd" or "none"
//	encoding     the original payload's metadata "encoding", for people reading history
//
// A new format gets a new "longhaul" version; old versions keep decoding. The longhaul
// codec server (payloadsvc) decodes these references too, so the Temporal UI and CLI show
// External Storage payloads decoded.
//
// # Coming from Temporal's S3 driver
//
// temporals3.Reader (codec/foreign/temporals3) reads the claims Temporal's own S3 driver
// left in history. List it in ExternalStorage.Drivers under that driver's name next to
// the Driver, with Always(driver) as the DriverSelector, and in the codec server's
// codec.Options.Readers.
package extstore

import (
	"cmp"
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// DefaultName is the driver name when Options.Name is empty. The SDK records it in every
// reference and picks the driver by it on retrieval: keep it stable.
const DefaultName = "longhaul"

// Type is the driver type reported by every Driver.
const Type = "longhaul.extstore"

// Options configures a Driver. The zero value means the defaults.
type Options struct {
	// Name is the driver name recorded in history; default DefaultName.
	Name string
	// Codec configures storing and reading: Hash, Compression, CacheBytes, Concurrency (parallel
	// store operations per Store or Retrieve call, which bounds the payloads in memory at
	// once), Timeout, Retry, Logger, MetricsHandler. Namespace is the fallback for Store
	// calls whose target names none. Threshold and InlineBudget are unused: the SDK's
	// ExternalStorage.PayloadSizeThreshold decides what is stored.
	Codec codec.Options
}

// Driver is a converter.StorageDriver over a driver.Store. It is safe for concurrent use.
type Driver struct {
	name  string
	codec *codec.Codec
}

var _ converter.StorageDriver = (*Driver)(nil)

// New returns a Driver that stores in store.
func New(store driver.Store, opts Options) (*Driver, error) {
	c, err := codec.New(store, opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("extstore: %w", err)
	}
	return &Driver{name: cmp.Or(opts.Name, DefaultName), codec: c}, nil
}

// Name implements converter.StorageDriver.
func (d *Driver) Name() string { return d.name }

// Type implements converter.StorageDriver.
func (d *Driver) Type() string { return Type }

// Stats returns the counters of the driver's codec (offloads, dedupe hits, fetches...).
func (d *Driver) Stats() codec.Stats { return d.codec.Stats() }

// Store implements converter.StorageDriver: it stores each payload under the namespace of
// the target (the workflow or activity), in parallel, and returns one claim per payload.
func (d *Driver) Store(sc converter.StorageDriverStoreContext, payloads []*commonpb.Payload) ([]converter.StorageDriverClaim, error) {
	c := d.codec
	if ns := targetNamespace(sc.Target); ns != "" && ns != c.Namespace() {
		var err error
		if c, err = c.WithNamespace(ns); err != nil {
			return nil, fmt.Errorf("extstore store: %w", err)
		}
	}
	claims := make([]converter.StorageDriverClaim, len(payloads))
	limiter := sc.GetLimiter()
	err := d.each(ctxOf(sc.Context), len(payloads), func(ctx context.Context, i int) error {
		return limiter.Permit(ctx, payloads[i], func() error {
			refp, err := c.Offload(ctx, payloads[i])
			if err != nil {
				return err
			}
			ref, err := codec.ParseReference(refp)
			if err != nil {
				return err
			}
			claims[i] = converter.StorageDriverClaim{ClaimData: ref.Claim(c.Namespace())}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("extstore store: %w", err)
	}
	return claims, nil
}

// Retrieve implements converter.StorageDriver: it reads and verifies the blob of each
// claim, in parallel.
func (d *Driver) Retrieve(rc converter.StorageDriverRetrieveContext, claims []converter.StorageDriverClaim) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(claims))
	limiter := rc.GetLimiter()
	err := d.each(ctxOf(rc.Context), len(claims), func(ctx context.Context, i int) error {
		return limiter.Permit(ctx, claims[i], func() error {
			p, err := d.codec.ResolveStorage(ctx, codec.StorageReference{DriverName: d.name, ClaimData: claims[i].ClaimData})
			if err != nil {
				return err
			}
			out[i] = p
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("extstore retrieve: %w", err)
	}
	return out, nil
}

// each runs fn for 0..n-1 with at most Codec.Concurrency at once; the first error cancels
// the rest.
func (d *Driver) each(ctx context.Context, n int, fn func(context.Context, int) error) error {
	if n == 1 {
		return fn(ctx, 0)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(d.codec.Options().Concurrency)
	for i := range n {
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}

func ctxOf(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// targetNamespace returns the namespace of a store target, or "".
func targetNamespace(t converter.StorageDriverTargetInfo) string {
	switch v := t.(type) {
	case converter.StorageDriverWorkflowInfo:
		return v.Namespace
	case converter.StorageDriverActivityInfo:
		return v.Namespace
	}
	return ""
}
