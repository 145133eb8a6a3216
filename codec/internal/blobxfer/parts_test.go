package blobxfer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
)

// TestParts splits sources into parts: in place from an io.ReaderAt, buffered from a
// sequential reader, and fails with a *SourceError, sending nothing more, when a
// sequential source ends short.
func TestParts(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10,000 bytes
	for _, tc := range []struct {
		name    string
		src     io.Reader
		size    int64
		wantErr bool
	}{
		{"ReaderAt", bytes.NewReader(data), 10000, false},
		{"Sequential", struct{ io.Reader }{bytes.NewReader(data)}, 10000, false},
		{"SequentialShort", struct{ io.Reader }{bytes.NewReader(data[:4500])}, 10000, true},
		{"Empty", bytes.NewReader(nil), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			got := make([]byte, tc.size)
			sent := 0
			err := Parts(context.Background(), tc.src, tc.size, 1024, 3, func(_ context.Context, i int, part io.ReaderAt, n int64) error {
				mu.Lock()
				defer mu.Unlock()
				sent++
				_, err := part.ReadAt(got[int64(i)*1024:int64(i)*1024+n], 0)
				return err
			})
			var se *SourceError
			if tc.wantErr {
				if !errors.As(err, &se) || sent > 4 {
					t.Fatalf("Parts = %v after %d parts, want a *SourceError after at most the 4 whole parts", err, sent)
				}
				return
			}
			if err != nil || !bytes.Equal(got, data[:tc.size]) || sent != int((tc.size+1023)/1024) {
				t.Fatalf("Parts = %v, %d parts; bytes equal: %v", err, sent, bytes.Equal(got, data[:tc.size]))
			}
		})
	}
}

// TestPartSize grows parts to whole MiB when an object would need too many.
func TestPartSize(t *testing.T) {
	for _, tc := range []struct{ size, want, max, out int64 }{
		{100 << 20, 16 << 20, 1024, 16 << 20},
		{1 << 40, 16 << 20, 1024, 1 << 30},
		{(1 << 40) + 1, 16 << 20, 1024, 1<<30 + 1<<20},
	} {
		if got := PartSize(tc.size, tc.want, tc.max); got != tc.out {
			t.Errorf("PartSize(%d, %d, %d) = %d, want %d", tc.size, tc.want, tc.max, got, tc.out)
		}
	}
}

// TestPartCount lets the last part take a remainder of up to tail bytes; with no tail
// it is a plain ceiling division.
func TestPartCount(t *testing.T) {
	for _, tc := range []struct{ size, part, tail, want int64 }{
		{0, 1024, 0, 0},
		{1, 1024, 0, 1},
		{1024, 1024, 0, 1},
		{1025, 1024, 0, 2},
		{1025, 1024, 64, 1}, // a 1-byte tail rides with the part
		{1088, 1024, 64, 1}, // up to the tail
		{1089, 1024, 64, 2}, // over it: a part of its own
		{2048 + 5, 1024, 64, 2},
		{100, 1024, 64, 1}, // under one part
	} {
		if got := PartCount(tc.size, tc.part, tc.tail); got != tc.want {
			t.Errorf("PartCount(%d, %d, %d) = %d, want %d", tc.size, tc.part, tc.tail, got, tc.want)
		}
	}
}

// TestPartsTail sends a last part that holds the tail, from both kinds of source.
func TestPartsTail(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 260) // 2,080 bytes: 2 parts of 1024 and a 32-byte tail
	for _, src := range []io.Reader{bytes.NewReader(data), struct{ io.Reader }{bytes.NewReader(data)}} {
		var mu sync.Mutex
		sizes := map[int]int64{}
		got := make([]byte, len(data))
		err := PartsTail(context.Background(), src, int64(len(data)), 1024, 64, 2, func(_ context.Context, i int, part io.ReaderAt, n int64) error {
			mu.Lock()
			defer mu.Unlock()
			sizes[i] = n
			_, err := part.ReadAt(got[int64(i)*1024:int64(i)*1024+n], 0)
			return err
		})
		if err != nil || len(sizes) != 2 || sizes[1] != 1024+32 || !bytes.Equal(got, data) {
			t.Fatalf("PartsTail = %v, part sizes %v, bytes equal %v; want parts of 1024 and 1056", err, sizes, bytes.Equal(got, data))
		}
	}
}
