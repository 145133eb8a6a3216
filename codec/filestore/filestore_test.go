package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) driver.Store {
		s, err := filestore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestSharedDirectory: two Store values on one directory (as two processes would) see
// each other's blobs.
func TestSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	a, err := filestore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := filestore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := "v1/default/sha256/" + strings.Repeat("ab", 32)
	if _, err := a.Put(context.Background(), key, bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Touch(context.Background(), key); err != nil {
		t.Fatalf("second store does not see the first's blob: %v", err)
	}
}

func TestFanOutLayout(t *testing.T) {
	s, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hex := "cd" + strings.Repeat("0", 62)
	p, err := s.Path("v1/ns/sha256/" + hex)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(s.Dir(), "v1", "ns", "sha256", "cd", hex)
	if p != want {
		t.Fatalf("Path = %s, want %s", p, want)
	}
}

func TestTouchRefreshesMtime(t *testing.T) {
	s, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "v1/default/sha256/" + strings.Repeat("ef", 32)
	ctx := context.Background()
	if _, err := s.Put(ctx, key, bytes.NewReader([]byte("old")), 3); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Path(key)
	old := time.Now().Add(-72 * time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	// A Put of an existing blob (a dedupe hit) must refresh its age too.
	if _, err := s.Put(ctx, key, bytes.NewReader([]byte("old")), 3); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(st.ModTime()) > time.Minute {
		t.Fatalf("mtime after Put of existing blob = %v, want refreshed to now", st.ModTime())
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	info, err := s.Touch(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(info.ModTime) > time.Minute {
		t.Fatalf("Touch ModTime = %v, want refreshed", info.ModTime)
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := filestore.New(""); err == nil {
		t.Fatal("New(\"\") succeeded, want error")
	}
	s, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"", "../etc/passwd", "v1/../../x", "v1//x", "/abs", "v1/a b", "v1/x\x00"} {
		if _, err := s.Put(ctx, key, bytes.NewReader(nil), 0); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Put(%q) err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Get(%q) err = %v, want ErrInvalidKey", key, err)
		}
	}
	if _, err := s.Put(ctx, "v1/x", bytes.NewReader(nil), -1); err == nil {
		t.Error("Put with negative size succeeded")
	}
}
