package blobxfer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Defaults of the options every cloud store shares, for fields left zero.
const (
	DefaultPartSize       = 16 << 20
	DefaultConcurrency    = 4
	DefaultTouchAfter     = 24 * time.Hour
	DefaultAttemptTimeout = 2 * time.Minute
)

// Options are the options every cloud store has under the same names and meaning (see
// each store's Options for their documentation).
type Options struct {
	Prefix         string
	PartSize       int64
	Concurrency    int
	TouchAfter     time.Duration
	Retry          driver.RetryPolicy
	AttemptTimeout time.Duration
	Logger         *slog.Logger
}

// Spec is what tells one store apart for NewCore: its names and its SDK's limits.
type Spec struct {
	// Driver prefixes errors and logs ("gcsstore"); Scheme and Kind name the location
	// ("gs", "bucket"); Noun names what it holds in logs ("object", "blob").
	Driver, Scheme, Kind, Noun string
	// MinPartSize and MaxPartSize bound Options.PartSize; MaxPartSize 0: no upper bound.
	MinPartSize, MaxPartSize int64
	// Classify maps the SDK's errors for the Retrier (see Retrier.Classify).
	Classify func(err error) error
}

// Core is what every cloud store keeps the same way, whatever its SDK: where its blobs
// are, the shared options with their defaults filled in, the retrier, and the counters
// that Put, Get and Touch (see Put, Touch and Core.Get) keep.
type Core struct {
	Location
	// Opts are the shared options, defaults filled in.
	Opts Options
	// Log is Opts.Logger.
	Log *slog.Logger
	// Retrier runs the store's requests under Opts.Retry and Opts.AttemptTimeout.
	Retrier *Retrier
	// Stats are the counters every store has.
	Stats Counters

	noun string
}

// Counters are the counters every cloud store keeps; a store adds its own beside them.
type Counters struct {
	Puts, Gets, Touches, Refreshes, Retries, BytesUp, BytesDown atomic.Int64
}

// NewCore checks a store's SDK client (not nil), bucket, prefix and part size, and
// fills in the defaults of o (a zero or negative Concurrency, TouchAfter or
// AttemptTimeout is its default).
func NewCore[C any](spec Spec, client *C, bucket string, o Options) (*Core, error) {
	if client == nil {
		return nil, fmt.Errorf("%s: client is nil", spec.Driver)
	}
	loc, err := NewLocation(spec.Driver, spec.Scheme, spec.Kind, bucket, o.Prefix)
	if err != nil {
		return nil, err
	}
	o.PartSize = cmp.Or(o.PartSize, DefaultPartSize)
	if o.PartSize < spec.MinPartSize || (spec.MaxPartSize > 0 && o.PartSize > spec.MaxPartSize) {
		limit := "at least " + sizeString(spec.MinPartSize)
		if spec.MaxPartSize > 0 {
			limit = "within [" + sizeString(spec.MinPartSize) + ", " + sizeString(spec.MaxPartSize) + "]"
		}
		return nil, fmt.Errorf("%s: part size %d: must be %s", spec.Driver, o.PartSize, limit)
	}
	o.Concurrency = OrDefault(o.Concurrency, DefaultConcurrency)
	o.TouchAfter = OrDefault(o.TouchAfter, DefaultTouchAfter)
	o.AttemptTimeout = OrDefault(o.AttemptTimeout, DefaultAttemptTimeout)
	o.Logger = cmp.Or(o.Logger, slog.Default())
	c := &Core{Location: loc, Opts: o, Log: o.Logger, noun: spec.Noun}
	c.Retrier = &Retrier{Policy: o.Retry, AttemptTimeout: o.AttemptTimeout, Classify: spec.Classify,
		Name: spec.Driver, Store: c, Log: o.Logger, Retries: &c.Stats.Retries}
	return c, nil
}

// OrDefault returns v, or def when v is zero or negative, so that no value below one
// (a negative timeout would fail every request at once) is ever used.
func OrDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// sizeString writes a limit in the largest binary unit that divides it: "5 MiB".
func sizeString(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Do runs op on the object that holds key, with the steps every store's Put, Get and
// Touch begin with: the key is checked (the error names op), a done ctx stops it before
// any request, and an error of fn names op and the object ("gcsstore get name: ...").
func Do[T any](ctx context.Context, l Location, op, key string, fn func(name string) (T, error)) (T, error) {
	var zero T
	name, err := l.Name(key)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", l.driver, op, err)
	}
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("%s %s %s: %w", l.driver, op, name, err)
	}
	v, err := fn(name)
	if err != nil {
		return zero, fmt.Errorf("%s %s %s: %w", l.driver, op, name, err)
	}
	return v, nil
}

// Refreshed counts a refresh of name that moved its age from was to now, and logs it.
func (c *Core) Refreshed(ctx context.Context, name string, was, now time.Time) {
	c.Stats.Refreshes.Add(1)
	c.Log.LogAttrs(ctx, slog.LevelDebug, c.driver+": refreshed", slog.String("store", c.String()),
		slog.String("key", name), slog.Time("was", was), slog.Time("now", now))
}
