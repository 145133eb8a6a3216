package codec_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// chainStore is a memstore whose Put records the chain the codec offers and whose Get
// offers a chain of the test's choosing, as payloadsvc's Client passes on the service's.
type chainStore struct {
	*memstore.Store
	putChains [][][]byte // states of each Put source that offered a chain
	offer     func(stored []byte) (int64, [][]byte)
	corrupt   bool // flip a byte of what Get returns
}

type chainReader struct {
	*bytes.Reader
	iv     int64
	states [][]byte
}

func (r chainReader) Close() error                   { return nil }
func (r chainReader) SHA256Chain() (int64, [][]byte) { return r.iv, r.states }

func (s *chainStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	if ch, ok := src.(driver.SHA256Chainer); ok {
		_, states := ch.SHA256Chain()
		s.putChains = append(s.putChains, states)
	}
	return s.Store.Put(ctx, key, src, size)
}

func (s *chainStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	iv, states := s.offer(b)
	if s.corrupt {
		b[len(b)/2] ^= 1
	}
	return chainReader{bytes.NewReader(b), iv, states}, nil
}

// The codec hands its Put source's SHA-256 chain to the store, and checks a blob in
// place through the chain its store offers; a wrong chain costs a serial pass, never a
// false ErrCorrupt, and a right chain never hides corrupt bytes.
func TestStoreChain(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16+3) // over 5 MiB; 5+ intervals
	own := func(b []byte) (int64, [][]byte) {
		_, c := sha256chain.Sum([][]byte{b}, sha256chain.MinInterval)
		return c.Interval, c.States
	}
	foreign := func(b []byte) (int64, [][]byte) { return own(bytes.Repeat([]byte{'x'}, len(b))) }
	shuffled := func(b []byte) (int64, [][]byte) {
		iv, st := own(b)
		st[0], st[1] = st[1], st[0]
		return iv, st
	}
	short := func(b []byte) (int64, [][]byte) { iv, st := own(b); return iv, st[1:] }
	for _, tc := range []struct {
		name    string
		offer   func([]byte) (int64, [][]byte)
		corrupt bool
		wantErr error
	}{
		{"the blob's own chain", own, false, nil},
		{"another blob's chain", foreign, false, nil},
		{"states out of order", shuffled, false, nil},
		{"a chain for another size", short, false, nil},
		{"no chain", func([]byte) (int64, [][]byte) { return 0, nil }, false, nil},
		{"corrupt bytes under their true chain", func(b []byte) (int64, [][]byte) { return own(b) }, true, driver.ErrCorrupt},
		{"corrupt bytes under a wrong chain", foreign, true, driver.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &chainStore{Store: memstore.New(), offer: tc.offer, corrupt: tc.corrupt}
			c, err := codec.New(st, codec.Options{Hash: codec.SHA256, Compression: codec.NoCompression, CacheBytes: -1})
			if err != nil {
				t.Fatal(err)
			}
			enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.putChains) != 1 || len(st.putChains[0]) < 5 {
				t.Fatalf("Put sources offered chains %d times, want once with 5+ states", len(st.putChains))
			}
			dec, err := c.Decode(enc)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Decode = %v, want %v", err, tc.wantErr)
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Decode = %v", err)
			case tc.wantErr == nil && !bytes.Equal(dec[0].Data, data):
				t.Fatal("decoded data differs")
			}
		})
	}
}
