package extstore_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

type countingLimiter[T any] struct{ n atomic.Int64 }

func (l *countingLimiter[T]) Permit(ctx context.Context, _ T, fn func() error) error {
	l.n.Add(1)
	return fn()
}

// tamperStore serves every blob with one byte flipped in the middle.
type tamperStore struct{ driver.Store }

func (s tamperStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		b[len(b)/2] ^= 1
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
