package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds retries of transient store failures. The zero value means the
// defaults: 100ms initial backoff doubling up to 5s, with full jitter, for at most
// MaxElapsed (default 1 minute) or until the context ends.
type RetryPolicy struct {
	// InitialInterval is the first backoff; default 100ms.
	InitialInterval time.Duration
	// MaxInterval caps one backoff; default 5s.
	MaxInterval time.Duration
	// MaxElapsed bounds the whole operation including retries; default 1 minute.
	MaxElapsed time.Duration
	// MaxAttempts caps attempts (first try included); default 0 = bounded by time only.
	// A negative value disables retries.
	MaxAttempts int
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.InitialInterval <= 0 {
		p.InitialInterval = 100 * time.Millisecond
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 5 * time.Second
	}
	if p.MaxInterval < p.InitialInterval {
		p.MaxInterval = p.InitialInterval
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = time.Minute
	}
	return p
}

// IsPermanent reports whether retrying err is pointless: not found, corrupt, an invalid
// key, a cancelled or expired context, or an error marked with Permanent (as the codec's
// invalid-reference errors are). Any context.DeadlineExceeded counts as the caller's
// deadline: a driver that bounds one attempt with a timeout of its own must return that
// as a different error to have it retried.
func IsPermanent(err error) bool {
	var pe permanentError
	return errors.As(err, &pe) ||
		errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInvalidKey) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Retry runs op until it succeeds, fails permanently (IsPermanent), the policy is spent or
// ctx ends. onRetry, if not nil, is called before each retry. Backoff is exponential with
// full jitter. The returned error is op's last error.
func Retry(ctx context.Context, p RetryPolicy, op func(ctx context.Context) error, onRetry func(attempt int, err error)) error {
	p = p.withDefaults()
	// op gets ctx itself, not a derived one, so a reader it returns outlives Retry; the
	// elapsed-time bound applies between attempts, ctx bounds a hung attempt.
	giveUp := time.Now().Add(p.MaxElapsed)
	backoff := p.InitialInterval
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || IsPermanent(err) || p.MaxAttempts < 0 || (p.MaxAttempts > 0 && attempt >= p.MaxAttempts) {
			return err
		}
		sleep := time.Duration(rand.Int64N(int64(backoff)) + 1)
		if time.Now().Add(sleep).After(giveUp) {
			return fmt.Errorf("%w (gave up after %d attempts in %s)", err, attempt, p.MaxElapsed)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up after %d attempts: %v)", err, attempt, ctx.Err())
		case <-time.After(sleep):
		}
		if onRetry != nil {
			onRetry(attempt, err)
		}
		backoff = min(backoff*2, p.MaxInterval)
	}
}

// retryStore retries a Store's transient failures with one policy, for drivers that
// have no retries of their own.
type retryStore struct {
	s       Store
	p       RetryPolicy
	onRetry func(op string, err error)
}

// WithRetry wraps s, a driver without retries of its own, so that its transient failures
// are retried under p and its exhausted retries are returned as Permanent. Not-found,
// corrupt and invalid-key errors, and errors marked Permanent, are returned at once. A
// Put is retried only when its source can be read again: it is an io.Seeker, or the
// failed attempt read nothing of it. onRetry, if not nil, observes each retry (for
// counters and logs). Never wrap a driver that retries already (s3store, payloadsvc's
// Client): retries would multiply.
func WithRetry(s Store, p RetryPolicy, onRetry func(op string, err error)) Store {
	return &retryStore{s: s, p: p, onRetry: onRetry}
}

func (r *retryStore) String() string { return Name(r.s) }

func (r *retryStore) hook(op string) func(int, error) {
	return func(_ int, err error) {
		if r.onRetry != nil {
			r.onRetry(op, err)
		}
	}
}

func (r *retryStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	seeker, _ := src.(io.Seeker)
	var start int64
	if seeker != nil {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			seeker = nil
		}
	}
	// A rewindable source goes to the driver as it is (an io.ReaderAt stays one); any
	// other is counted, so a retry knows whether the failed attempt consumed some of it.
	cr := &countingReader{r: src}
	body := io.Reader(cr)
	if seeker != nil {
		body = src
	}
	var created bool
	first := true
	err := Retry(ctx, r.p, func(ctx context.Context) error {
		if !first {
			switch {
			case seeker != nil:
				if _, err := seeker.Seek(start, io.SeekStart); err != nil {
					return Permanent(fmt.Errorf("rewind source: %w", err))
				}
			case cr.n > 0:
				return Permanent(errors.New("source was partly read and cannot be rewound"))
			}
		}
		first = false
		var err error
		created, err = r.s.Put(ctx, key, body, size)
		return err
	}, r.hook("put"))
	return created, Permanent(err) // the retries are spent
}

// countingReader counts what Put read of a source, so a retry knows whether it may
// send the source again.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (r *retryStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return retryValue(ctx, r, "get", func(ctx context.Context) (io.ReadCloser, error) { return r.s.Get(ctx, key) })
}

func (r *retryStore) Touch(ctx context.Context, key string) (Info, error) {
	return retryValue(ctx, r, "touch", func(ctx context.Context) (Info, error) { return r.s.Touch(ctx, key) })
}

// retryValue runs op under r's policy and returns its last value, the spent retries
// marked Permanent.
func retryValue[T any](ctx context.Context, r *retryStore, name string, op func(context.Context) (T, error)) (T, error) {
	var v T
	err := Retry(ctx, r.p, func(ctx context.Context) error {
		var err error
		v, err = op(ctx)
		return err
	}, r.hook(name))
	return v, Permanent(err)
}
