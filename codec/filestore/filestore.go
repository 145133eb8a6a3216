// Package filestore is a driver.Store in a local directory: the embedded default of the
// demo, and a fine choice for one machine or a shared POSIX filesystem.
//
// Writes are atomic (temporary file, fsync, rename in the same filesystem), so several
// processes may share one directory and no reader ever sees a partial blob. Blobs fan
// out into subdirectories by the first two characters of the key's last segment, so no
// directory grows past a few thousand entries for millions of blobs.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/ctxio"
)

var _ driver.Store = (*Store)(nil)

// tmpDir holds writes in progress; stale ones (a crashed writer) are removed by New.
const tmpDir = ".tmp"

// staleTemp is how old a temporary file must be before New removes it.
const staleTemp = time.Hour

// Store is a driver.Store in a directory. It is safe for concurrent use, also by several
// processes sharing the directory.
type Store struct {
	dir string
}

// New returns a Store rooted at dir, creating it if needed, and removes temporary files
// that a crashed writer left behind more than an hour ago.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("filestore: directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o755); err != nil {
		return nil, fmt.Errorf("filestore: create %s: %w", abs, err)
	}
	s := &Store{dir: abs}
	s.removeStaleTemps()
	return s, nil
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

// String names the store in errors.
func (s *Store) String() string { return "filestore(" + s.dir + ")" }

// Path returns the file that holds key.
func (s *Store) Path(key string) (string, error) {
	if err := driver.ValidateKey(key); err != nil {
		return "", err
	}
	parts := strings.Split(key, "/")
	last := parts[len(parts)-1]
	fan := last
	if len(fan) > 2 {
		fan = fan[:2]
	}
	parts = append(parts[:len(parts)-1], fan, last)
	return filepath.Join(append([]string{s.dir}, parts...)...), nil
}

// Put writes size bytes from src atomically (temporary file, fsync, rename). An existing
// blob is refreshed, not rewritten, and src is not read.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	path, err := s.Path(key)
	if err != nil {
		return false, fmt.Errorf("filestore put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("filestore put %s: %w", key, err)
	}
	if size < 0 {
		return false, fmt.Errorf("filestore put %s: negative size %d", key, size)
	}
	if _, err := s.touchPath(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("filestore put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "put-*")
	if err != nil {
		return false, fmt.Errorf("filestore put %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(ctxio.Reader(ctx, src), size))
	if err != nil {
		return false, fmt.Errorf("filestore put %s: write: %w", key, err)
	}
	if n != size {
		return false, fmt.Errorf("filestore put %s: source ended after %d of %d bytes", key, n, size)
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("filestore put %s: fsync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("filestore put %s: close: %w", key, err)
	}
	// Rename is atomic; a concurrent Put of the same key renames identical content.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("filestore put %s: rename: %w", key, err)
	}
	committed = true
	syncDir(filepath.Dir(path))
	return true, nil
}

// Get opens the blob for reading; the reader has a Size method.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	path, err := s.Path(key)
	if err != nil {
		return nil, fmt.Errorf("filestore get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore get %s: %w", key, err)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore get %s: %w", key, driver.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore get %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("filestore get %s: %w", key, err)
	}
	return &file{File: f, size: st.Size()}, nil
}

// file is an open blob that knows its size (driver.Sizer).
type file struct {
	*os.File
	size int64
}

// Size returns the blob's length when it was opened.
func (f *file) Size() int64 { return f.size }

// Touch reports the blob's size and sets its modification time to now, which is what
// age-based cleanup (find -mtime, tmpreaper) looks at.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	path, err := s.Path(key)
	if err != nil {
		return driver.Info{}, fmt.Errorf("filestore touch: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return driver.Info{}, fmt.Errorf("filestore touch %s: %w", key, err)
	}
	info, err := s.touchPath(path)
	if err != nil {
		return driver.Info{}, fmt.Errorf("filestore touch %s: %w", key, err)
	}
	return info, nil
}

func (s *Store) touchPath(path string) (driver.Info, error) {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return driver.Info{}, driver.ErrNotFound
		}
		return driver.Info{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return driver.Info{}, driver.ErrNotFound
		}
		return driver.Info{}, err
	}
	return driver.Info{Size: st.Size(), ModTime: st.ModTime()}, nil
}

func (s *Store) removeStaleTemps() {
	entries, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(s.dir, tmpDir, e.Name()))
		}
	}
}

// syncDir makes a rename durable; best effort, as some filesystems refuse it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
