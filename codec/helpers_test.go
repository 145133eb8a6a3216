package codec_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, name); !bytes.Equal(got, want) {
		t.Fatalf("%s differs (a format change needs a new version):\n got: %s\nwant: %s", name, got, want)
	}
}

// errInjected is the failure a faultStore returns.
var errInjected = errors.New("injected store outage")

// faultStore wraps a Store and fails chosen operations while it is down.
type faultStore struct {
	driver.Store
	downUntil atomic.Int64 // unix nanos; operations before it fail
	failReads atomic.Bool  // only Get fails while down
	failLeft  sync.Map     // op -> *atomic.Int64: the next failures of op
	calls     sync.Map     // op -> *atomic.Int64
}

func (f *faultStore) count(op string) int64 {
	v, _ := f.calls.LoadOrStore(op, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

// failNext makes the next n calls of op fail.
func (f *faultStore) failNext(op string, n int64) {
	v, _ := f.failLeft.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Store(n)
}

func (f *faultStore) down(op string) bool {
	v, _ := f.calls.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	if l, ok := f.failLeft.Load(op); ok && l.(*atomic.Int64).Add(-1) >= 0 {
		return true
	}
	if time.Now().UnixNano() >= f.downUntil.Load() {
		return false
	}
	return op == "get" || !f.failReads.Load()
}

// failFor makes the store fail for d from now.
func (f *faultStore) failFor(d time.Duration) { f.downUntil.Store(time.Now().Add(d).UnixNano()) }

func (f *faultStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	if f.down("put") {
		return false, errInjected
	}
	return f.Store.Put(ctx, key, src, size)
}

func (f *faultStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if f.down("get") {
		return nil, errInjected
	}
	return f.Store.Get(ctx, key)
}

func (f *faultStore) Touch(ctx context.Context, key string) (driver.Info, error) {
	if f.down("touch") {
		return driver.Info{}, errInjected
	}
	return f.Store.Touch(ctx, key)
}

// walkFiles calls fn for every regular file under dir/v1 and dir/v2 (a filestore's blobs).
func walkFiles(dir string, fn func(path string) error) error {
	for _, v := range driver.KeyVersions() {
		err := filepath.WalkDir(filepath.Join(dir, v), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return fn(path)
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
