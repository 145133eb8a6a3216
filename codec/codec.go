package codec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Defaults for Options fields left zero.
const (
	DefaultNamespace    = "default"
	defaultThreshold    = 256 << 10
	defaultInlineBudget = 1 << 20
	defaultCacheBytes   = 128 << 20
	DefaultConcurrency  = 4
	defaultTimeout      = 2 * time.Minute
	defaultMaxSize      = 1 << 30
)

// minOffloadSize is the smallest payload the inline budget may offload: below it a
// reference would not be smaller than the payload it replaces.
const minOffloadSize = 1 << 10

// Options configures a Codec. The zero value means the defaults.
type Options struct {
	// Namespace is the fallback namespace in keys, for calls that carry no serialization
	// context; default "default". Calls the SDK makes with a serialization context (SDK
	// v1.51+) key blobs by the namespace it names, which is what the codec server of that
	// namespace reads.
	Namespace string
	// Threshold: payloads whose serialized size is over it are offloaded; default 256 KiB.
	Threshold int
	// InlineBudget bounds the inline bytes of one Encode call: the largest remaining
	// payloads (of at least 1 KiB) are offloaded until the rest fits; default 1 MiB.
	// Temporal's gRPC message limit is 4 MiB for all payloads of a request together.
	InlineBudget int
	// Compression of stored blobs; default Zstd (skipped when it saves less than 10%).
	Compression Compression
	// Hash is the content address of the blobs written; default BLAKE3 (references v2).
	// SHA256 writes references v1, for deployments that must use FIPS-approved algorithms.
	// References of either are read whatever the setting.
	Hash Hash
	// CacheBytes bounds the decode cache; default 128 MiB; negative disables it.
	CacheBytes int64
	// Concurrency bounds parallel store operations in one call; default 4.
	Concurrency int
	// Timeout bounds one store operation including its retries; default 2 minutes.
	// PayloadCodec calls carry no context, so this is what stops a hung store.
	Timeout time.Duration
	// MaxSize bounds the serialized size of one offloaded payload and of its stored blob,
	// on encode (ErrTooLarge) and on decode, where a reference claiming more is
	// ErrInvalidReference before anything is read; default 1 GiB. Decoding never
	// allocates more than the store really holds and this allows.
	MaxSize int64
	// Logger receives store failures; default slog.Default(). Retries are the store
	// driver's (see Store), logged by it.
	Logger *slog.Logger
	// MetricsHandler, if set, receives the counters of Stats (names in its field docs), e.g. the
	// worker's client.Options.MetricsHandler.
	MetricsHandler client.MetricsHandler
	// Readers resolve references that other offloaders left in history (see Reader);
	// Decode tries them for payloads that are not longhaul references.
	Readers []Reader
	// Tracer, if set, sees every store operation (offload, and fetch on a cache miss)
	// with what the SDK said it was for, e.g. interceptor.Interceptor.CodecTracer for
	// Datadog spans in the workflow's or activity's trace. Default none: then tracing
	// costs one nil check per store operation.
	Tracer Tracer
}

func (o Options) withDefaults() (Options, error) {
	o.Namespace = cmp.Or(o.Namespace, DefaultNamespace)
	if err := driver.ValidateNamespace(o.Namespace); err != nil {
		return o, fmt.Errorf("codec: Options.Namespace: %w", err)
	}
	switch {
	case o.Threshold < 0:
		return o, fmt.Errorf("codec: Options.Threshold is negative (%d)", o.Threshold)
	case o.InlineBudget < 0:
		return o, fmt.Errorf("codec: Options.InlineBudget is negative (%d)", o.InlineBudget)
	case o.Concurrency < 0:
		return o, fmt.Errorf("codec: Options.Concurrency is negative (%d)", o.Concurrency)
	case o.MaxSize < 0:
		return o, fmt.Errorf("codec: Options.MaxSize is negative (%d)", o.MaxSize)
	case o.Timeout < 0:
		return o, fmt.Errorf("codec: Options.Timeout is negative (%s)", o.Timeout)
	case o.Compression != "" && o.Compression != Zstd && o.Compression != NoCompression:
		return o, fmt.Errorf("codec: Options.Compression %q is not Zstd or NoCompression", o.Compression)
	}
	o.Threshold = cmp.Or(o.Threshold, defaultThreshold)
	o.InlineBudget = cmp.Or(o.InlineBudget, defaultInlineBudget)
	o.CacheBytes = cmp.Or(o.CacheBytes, defaultCacheBytes)
	o.Concurrency = cmp.Or(o.Concurrency, DefaultConcurrency)
	o.Timeout = cmp.Or(o.Timeout, defaultTimeout)
	o.MaxSize = cmp.Or(o.MaxSize, defaultMaxSize)
	o.Compression = cmp.Or(o.Compression, Zstd)
	o.Hash = cmp.Or(o.Hash, BLAKE3)
	if err := o.Hash.check(); err != nil {
		return o, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Codec offloads large payloads to a Store. It is safe for concurrent use; share one per
// store and namespace.
type Codec struct {
	opts  Options
	store driver.Store
	name  string
	cache *cache
	ctr   *counters
	// followNS: references that name a namespace are read from it. Set only for the
	// SDK's replayer, whose context names a placeholder; otherwise the codec's namespace
	// is the one served, and a reference naming another is refused.
	followNS bool
	// sc is the serialization context this copy converts for, kept only for the Tracer.
	sc converter.SerializationContext
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a Codec that offloads to store.
func New(store driver.Store, opts Options) (*Codec, error) {
	if store == nil {
		return nil, errors.New("codec: store is nil")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Codec{opts: opts, store: store, name: driver.Name(store), cache: newCache(opts.CacheBytes), ctr: newCounters(opts.MetricsHandler)}
	return c, nil
}

// WithNamespace returns a Codec for another namespace that shares this one's store,
// cache and counters (the codec server keeps one per namespace it serves).
func (c *Codec) WithNamespace(namespace string) (*Codec, error) {
	if err := driver.ValidateNamespace(namespace); err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	n := *c
	n.opts.Namespace = namespace
	n.followNS = false
	return &n, nil
}

// Namespace returns the namespace in this codec's keys.
func (c *Codec) Namespace() string { return c.opts.Namespace }

// Options returns the effective options, defaults filled in.
func (c *Codec) Options() Options { return c.opts }

// Stats returns a snapshot of the codec's counters.
func (c *Codec) Stats() Stats {
	s := c.ctr.snapshot()
	s.CacheBytes = c.cache.bytes()
	return s
}

// Encode implements converter.PayloadCodec; see EncodeContext.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.EncodeContext(context.Background(), payloads)
}

// Decode implements converter.PayloadCodec; see DecodeContext.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.DecodeContext(context.Background(), payloads)
}

// EncodeContext offloads the payloads that are over the threshold or needed to fit the
// inline budget, in parallel, and returns the list with references in their place, in
// the same order. When nothing needs offloading it returns payloads itself.
func (c *Codec) EncodeContext(ctx context.Context, payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	pick := c.selectOffloads(payloads)
	if pick == nil {
		return payloads, nil
	}
	out := make([]*commonpb.Payload, len(payloads))
	copy(out, payloads)
	err := c.parallel(ctx, pick, func(ctx context.Context, i int) error {
		ref, err := c.offload(ctx, payloads[i])
		if err != nil {
			return err
		}
		out[i] = ref
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selectOffloads returns the indexes to offload, or nil for none; it allocates only
// when something must be offloaded. Over the threshold is always offloaded; then the
// largest of the rest (of at least minOffloadSize) until the inline total fits the
// budget: one sort, O(n log n) in the number of payloads.
func (c *Codec) selectOffloads(payloads []*commonpb.Payload) []int {
	total, over := 0, false
	for _, p := range payloads {
		n := payloadSize(p)
		total += n
		if n > c.opts.Threshold && !IsReference(p) {
			over = true
		}
	}
	if !over && total <= c.opts.InlineBudget {
		return nil
	}
	var pick, rest []int
	inline := 0
	for i, p := range payloads {
		switch n := payloadSize(p); {
		case IsReference(p):
			inline += n
		case n > c.opts.Threshold:
			pick = append(pick, i)
			inline += refSizeEstimate
		default:
			inline += n
			if n >= minOffloadSize {
				rest = append(rest, i)
			}
		}
	}
	if inline <= c.opts.InlineBudget {
		return pick
	}
	sizes := make([]int, len(payloads))
	for _, i := range rest {
		sizes[i] = payloadSize(payloads[i])
	}
	// Largest first; equal sizes in index order, so the choice is deterministic.
	slices.SortStableFunc(rest, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	for _, i := range rest {
		if inline <= c.opts.InlineBudget {
			break
		}
		pick = append(pick, i)
		inline += refSizeEstimate - sizes[i]
	}
	return pick
}

// refSizeEstimate is about what a reference payload adds to a message.
const refSizeEstimate = 220

// DecodeContext replaces each reference with the payload it stands for, verified against
// its SHA-256, in parallel; other payloads pass through. When there is no reference it
// returns payloads itself.
func (c *Codec) DecodeContext(ctx context.Context, payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	var locs []Locator // parsed once, by index
	for i, p := range payloads {
		loc, ok, err := c.Locate(p)
		if !ok {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("codec decode: payload %d: %w", i, err)
		}
		if locs == nil {
			locs = make([]Locator, len(payloads))
		}
		locs[i] = loc
	}
	return c.DecodeLocated(ctx, payloads, locs)
}

// DecodeLocated is DecodeContext for a caller that has located the references already
// (with Locate, e.g. to admit a request by what it will read): locs[i] is payloads[i]'s
// Locator, the zero Locator (or a nil locs) where it is not a reference. Each reference
// is read once, in parallel, through Fetch (its limits checked again), and nothing is
// parsed again.
func (c *Codec) DecodeLocated(ctx context.Context, payloads []*commonpb.Payload, locs []Locator) ([]*commonpb.Payload, error) {
	var refs []int
	for i := range locs {
		if locs[i].Kind != 0 {
			refs = append(refs, i)
		}
	}
	if refs == nil {
		return payloads, nil
	}
	if len(locs) != len(payloads) {
		return nil, fmt.Errorf("codec decode: %d locators for %d payloads", len(locs), len(payloads))
	}
	out := make([]*commonpb.Payload, len(payloads))
	copy(out, payloads)
	err := c.parallel(ctx, refs, func(ctx context.Context, i int) error {
		p, err := c.Fetch(ctx, locs[i])
		if err != nil {
			return err
		}
		out[i] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrPanic is wrapped by the error a Codec returns when a goroutine it started panicked:
// the panic is recovered there, since nobody else could, and fails the call instead.
var ErrPanic = errors.New("codec: recovered panic")

// parallel runs fn for each index with at most Options.Concurrency at once; the first
// error cancels the rest and is returned.
func (c *Codec) parallel(ctx context.Context, idx []int, fn func(context.Context, int) error) error {
	if len(idx) == 1 {
		return fn(ctx, idx[0])
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, c.opts.Concurrency)
	errs := make(chan error, len(idx))
	for _, i := range idx {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs <- context.Cause(ctx)
			continue
		}
		go func() {
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					err := fmt.Errorf("%w: %v\n%s", ErrPanic, p, debug.Stack())
					cancel(err)
					errs <- err
				}
			}()
			if err := fn(ctx, i); err != nil {
				cancel(err)
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	var first error
	for range idx {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
