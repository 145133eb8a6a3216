// Package memstore is an in-memory driver.Store for tests and demos. It keeps every blob
// in the process heap and forgets them when the process ends.
package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

var _ driver.Store = (*Store)(nil)

// Store is an in-memory driver.Store, safe for concurrent use. The zero value is not
// usable; call New.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
	now     func() time.Time
}

type object struct {
	data    []byte
	modTime time.Time
}

// New returns an empty Store.
func New() *Store {
	return &Store{objects: make(map[string]object), now: time.Now}
}

// String names the store in errors.
func (s *Store) String() string { return "memstore" }

// Put stores a copy of size bytes read from src. An existing key is refreshed, not
// rewritten, and src is not read.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("memstore put %s: %w", key, err)
	}
	if err := driver.ValidateKey(key); err != nil {
		return false, fmt.Errorf("memstore put: %w", err)
	}
	if _, err := s.Touch(ctx, key); err == nil {
		return false, nil
	}
	if size < 0 {
		return false, fmt.Errorf("memstore put %s: negative size %d", key, size)
	}
	data, err := readAll(src, size)
	if err != nil {
		return false, fmt.Errorf("memstore put %s: read source (want %d bytes): %w", key, size, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		return false, nil
	}
	s.objects[key] = object{data: data, modTime: s.now()}
	return true, nil
}

// readAll reads exactly size bytes of src. A source that can write itself out (bytes.Reader,
// the codec's sources) is appended into a slice that the runtime grows without zeroing
// it first: one pass over the bytes instead of two.
func readAll(src io.Reader, size int64) ([]byte, error) {
	wt, ok := src.(io.WriterTo)
	if !ok {
		data := make([]byte, size)
		if _, err := io.ReadFull(src, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	w := &appendWriter{limit: size}
	if _, err := wt.WriteTo(w); err != nil && err != errFull {
		return nil, err
	}
	if int64(len(w.buf)) != size {
		return nil, fmt.Errorf("source ended after %d bytes: %w", len(w.buf), io.ErrUnexpectedEOF)
	}
	return w.buf, nil
}

// errFull stops a WriteTo at the size Put was given.
var errFull = errors.New("memstore: size reached")

// appendWriter collects at most limit bytes.
type appendWriter struct {
	buf   []byte
	limit int64
}

func (w *appendWriter) Write(p []byte) (int, error) {
	room := w.limit - int64(len(w.buf))
	if int64(len(p)) > room {
		w.buf = append(w.buf, p[:room]...)
		return int(room), errFull
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Get returns a reader over the blob's bytes; it has a Size method.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore get %s: %w", key, err)
	}
	s.mu.RLock()
	o, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("memstore get %s: %w", key, driver.ErrNotFound)
	}
	return reader{bytes.NewReader(o.data)}, nil
}

// reader is a blob's bytes with a no-op Close; bytes.Reader gives it Size and WriteTo.
type reader struct{ *bytes.Reader }

func (reader) Close() error { return nil }

// Touch reports the blob's size and sets its age to now.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	if err := ctx.Err(); err != nil {
		return driver.Info{}, fmt.Errorf("memstore touch %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return driver.Info{}, fmt.Errorf("memstore touch %s: %w", key, driver.ErrNotFound)
	}
	o.modTime = s.now()
	s.objects[key] = o
	return driver.Info{Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// Len returns the number of blobs held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.objects)
}

// Bytes returns the total size of all blobs held.
func (s *Store) Bytes() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	for _, o := range s.objects {
		n += int64(len(o.data))
	}
	return n
}

// Keys returns the keys held, sorted.
func (s *Store) Keys() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
