package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// MemoryBound puts a blob of size bytes from a sequential source that generates it on
// the fly, reads it back through a hash, and fails the test if the live heap grew by
// more than bound during either: a driver must stream, holding its parts or ranges in
// flight, never the blob. The Get reader must report the blob's size (driver.Sizer).
func MemoryBound(t testing.TB, ctx context.Context, s driver.Store, size, bound int64) {
	t.Helper()
	var seed [32]byte
	rand.NewChaCha8([32]byte{byte(size)}).Read(seed[:])
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8(seed), size) }
	h := sha256.New()
	if _, err := io.Copy(h, gen()); err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	key, err := driver.Key("storetest", driver.SHA256, hex.EncodeToString(want))
	if err != nil {
		t.Fatal(err)
	}

	var created bool
	putPeak := PeakLiveHeap(func() {
		created, err = s.Put(ctx, key, struct{ io.Reader }{gen()}, size)
	})
	if err != nil || !created {
		t.Fatalf("Put(%d bytes) = %v, %v", size, created, err)
	}
	var n int64
	got := sha256.New()
	getPeak := PeakLiveHeap(func() {
		var r io.ReadCloser
		if r, err = s.Get(ctx, key); err != nil {
			return
		}
		defer r.Close()
		if sz, ok := r.(driver.Sizer); !ok || sz.Size() != size {
			t.Errorf("Get reader %T does not report the size %d (driver.Sizer)", r, size)
		}
		n, err = io.Copy(got, r)
	})
	if err != nil || n != size || string(got.Sum(nil)) != string(want) {
		t.Fatalf("Get: read %d of %d bytes (sha256 %x, want %x): %v", n, size, got.Sum(nil), want, err)
	}
	t.Logf("%d MiB blob: live heap grew by at most %d MiB in Put, %d MiB in Get (bound %d MiB)",
		size>>20, putPeak>>20, getPeak>>20, bound>>20)
	if int64(putPeak) > bound || int64(getPeak) > bound {
		t.Errorf("live heap grew by %d MiB (Put) and %d MiB (Get), over the bound of %d MiB",
			putPeak>>20, getPeak>>20, bound>>20)
	}
}

// PeakLiveHeap runs fn and returns by how much the live heap (bytes reachable at a
// collection, /gc/heap/live:bytes) grew while it ran, sampled every millisecond.
// Garbage is not counted, so the result bounds what fn holds at once, not what it
// allocates in total. Other goroutines' memory counts too: run it alone.
func PeakLiveHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		p := base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				p = max(p, read())
			case <-done:
				peak <- max(p, read())
				return
			}
		}
	}()
	fn()
	runtime.GC() // the live heap at the end counts too
	close(done)
	p := <-peak
	return p - min(p, base)
}
