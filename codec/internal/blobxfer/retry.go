package blobxfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Retrier runs one request at a time under a retry policy, with driver.Retry.
type Retrier struct {
	// Policy bounds the retries of one request.
	Policy driver.RetryPolicy
	// AttemptTimeout bounds one attempt, so a hung connection is retried rather than
	// waited on.
	AttemptTimeout time.Duration
	// Classify returns err unchanged when another attempt may succeed, and err wrapped
	// in driver.Permanent (or a permanent sentinel such as driver.ErrNotFound) when not.
	// Source errors and context errors are handled before it is called.
	Classify func(err error) error
	// Name prefixes log messages ("gcsstore"); Store names the store in them.
	Name  string
	Store fmt.Stringer
	// Log receives each retry and each resumed body at Warn.
	Log *slog.Logger
	// Retries, if not nil, counts retries and resumed bodies.
	Retries *atomic.Int64
	// Explain, if not nil, may add a hint to an error that was final on its own
	// (classified permanent, not retries spent), e.g. what to check on a refused request.
	Explain func(err error) error
}

// Do runs fn, one request on key, retrying its transient failures; each attempt gets
// AttemptTimeout. The final error is marked driver.Permanent (the retries are spent, no
// layer above may start over), except that the caller's context error stays
// recognisable with errors.Is.
func (r *Retrier) Do(ctx context.Context, op, key string, fn func(ctx context.Context) error) error {
	return r.do(ctx, op, key, true, fn)
}

// DoStream is Do for a request whose response body outlives fn: the attempt is bounded
// by ctx alone.
func (r *Retrier) DoStream(ctx context.Context, op, key string, fn func(ctx context.Context) error) error {
	return r.do(ctx, op, key, false, fn)
}

func (r *Retrier) do(ctx context.Context, op, key string, bounded bool, fn func(ctx context.Context) error) error {
	err := driver.Retry(ctx, r.Policy, func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !bounded || r.AttemptTimeout <= 0 {
			return r.classify(fn(ctx))
		}
		actx, cancel := context.WithTimeout(ctx, r.AttemptTimeout)
		defer cancel()
		err := fn(actx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			// The attempt's own deadline: transient, and not the caller's context error
			// (which driver.Retry treats as final), so the chain is cut with %v.
			return fmt.Errorf("attempt timed out after %s: %v", r.AttemptTimeout, err)
		}
		return r.classify(err)
	}, func(attempt int, err error) {
		r.count()
		r.Log.LogAttrs(ctx, slog.LevelWarn, r.Name+": retrying", slog.String("store", r.Store.String()),
			slog.String("op", op), slog.String("key", key), slog.Int("attempt", attempt), slog.Any("err", err))
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
	case r.Explain != nil && driver.IsPermanent(err):
		return r.Explain(err)
	default:
		return driver.Permanent(err)
	}
}

// resumed counts and logs a body that broke off at off and is opened again.
func (r *Retrier) resumed(ctx context.Context, key string, off int64, err error) {
	r.count()
	r.Log.LogAttrs(ctx, slog.LevelWarn, r.Name+": resuming body", slog.String("store", r.Store.String()),
		slog.String("key", key), slog.Int64("offset", off), slog.Any("err", err))
}

func (r *Retrier) count() {
	if r.Retries != nil {
		r.Retries.Add(1)
	}
}

// Transient reports whether err, from one attempt, is worth another.
func (r *Retrier) Transient(err error) bool { return !driver.IsPermanent(r.classify(err)) }

func (r *Retrier) classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller's context: final
	}
	var se *SourceError
	if errors.As(err, &se) {
		return driver.Permanent(err)
	}
	if r.Classify == nil {
		return err
	}
	return r.Classify(err)
}
