package codec_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// inflightStore counts concurrent Puts.
type inflightStore struct {
	driver.Store
	mu        sync.Mutex
	cur, peak int
}

func (s *inflightStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	s.mu.Lock()
	s.cur++
	s.peak = max(s.peak, s.cur)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.cur--; s.mu.Unlock() }()
	time.Sleep(20 * time.Millisecond) // long enough for the others to start
	return s.Store.Put(ctx, key, src, size)
}

// TestConcurrencyBound: one call with many large payloads stores them in parallel, never
// more than Options.Concurrency at once.
func TestConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprintf("Concurrency=%d", limit), func(t *testing.T) {
			s := &inflightStore{Store: memstore.New()}
			c := newCodec(t, s, codec.Options{Concurrency: limit})
			var in []*commonpb.Payload
			for i := 0; i < 9; i++ {
				in = append(in, payload(randomBytes(300<<10, uint64(200+i))))
			}
			roundTrip(t, c, in)
			if s.peak != limit {
				t.Fatalf("peak concurrent Puts = %d, want exactly the limit %d", s.peak, limit)
			}
		})
	}
}
