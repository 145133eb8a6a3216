package blobxfer

import (
	"errors"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

func TestLocation(t *testing.T) {
	for _, tc := range []struct {
		prefix, wantPrefix, wantString string
	}{
		{"", "", "gcsstore(gs://b/)"},
		{"p", "p/", "gcsstore(gs://b/p/)"},
		{"a/b/", "a/b/", "gcsstore(gs://b/a/b/)"},
	} {
		l, err := NewLocation("gcsstore", "gs", "bucket", "b", tc.prefix)
		if err != nil {
			t.Fatalf("NewLocation(prefix %q): %v", tc.prefix, err)
		}
		if l.Prefix != tc.wantPrefix || l.String() != tc.wantString {
			t.Errorf("prefix %q: Prefix %q, String %q; want %q, %q", tc.prefix, l.Prefix, l, tc.wantPrefix, tc.wantString)
		}
		if name, err := l.Name("v1/k"); err != nil || name != tc.wantPrefix+"v1/k" {
			t.Errorf("Name(v1/k) = %q, %v", name, err)
		}
		if _, err := l.Name("v1/../k"); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Name(v1/../k) = %v, want ErrInvalidKey", err)
		}
		// Every key version's blobs are swept and checked: SHA-256 under v1/, BLAKE3 under v2/.
		if got := l.BlobPrefixes(); len(got) != 2 || got[0] != tc.wantPrefix+"v1/" || got[1] != tc.wantPrefix+"v2/" {
			t.Errorf("prefix %q: BlobPrefixes %q, want %q and %q", tc.prefix, got, tc.wantPrefix+"v1/", tc.wantPrefix+"v2/")
		}
	}
	if _, err := NewLocation("azblobstore", "azblob", "container", "", ""); err == nil || err.Error() != "azblobstore: container is empty" {
		t.Errorf("empty container: %v", err)
	}
	if _, err := NewLocation("s3store", "s3", "bucket", "b", "a/../b"); !errors.Is(err, driver.ErrInvalidKey) {
		t.Errorf("bad prefix: %v, want ErrInvalidKey", err)
	}
}
