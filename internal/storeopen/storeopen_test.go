package storeopen_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

func TestSchemes(t *testing.T) {
	if got := strings.Join(storeopen.Mux().Schemes(), " "); got != "azblob file gs http https mem s3" {
		t.Fatalf("schemes %s", got)
	}
}

// TestOpenStoreLocal: the URLs the commands took before the drivers opened their own
// still open, and every bad one is refused naming what is wrong.
func TestOpenStoreLocal(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := testenv.Context(t, time.Minute)
	s, err := storeopen.Open(ctx, "mem://")
	if _, ok := s.(*memstore.Store); err != nil || !ok {
		t.Fatalf("Open(mem://) = %T, %v", s, err)
	}
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err = storeopen.Open(ctx, "file://"+dir)
	if fs, ok := s.(*filestore.Store); err != nil || !ok || fs.Dir() != dir {
		t.Fatalf("Open(file://%s) = %v, %v", dir, s, err)
	}
	s, err = storeopen.Open(ctx, "https://payloads.internal:8080/prefix")
	if _, ok := s.(*blobclient.Client); err != nil || !ok {
		t.Fatalf("Open(https://...) = %T, %v", s, err)
	}
	for _, tc := range []struct{ url, want string }{
		{"mem://x", "mem:// takes no host"},
		{"file://host/dir", "three slashes"},
		{"file://", "no directory"},
		{"ftp://bucket", `scheme "ftp"`},
		{"gs:///prefix", "no bucket"},
		{"gs://bucket/p?auth=yes", "auth="},
		{"azblob:///prefix", "no container"},
		{"azblob://c/p?acount=x", `unknown parameter "acount"`},
		{"/var/lib/x", `scheme ""`},
		{"s3:///prefix", "no bucket"},
		{"s3://bucket/p?endpont=http://x", `unknown parameter "endpont"`},
		{"s3://bucket/bad..//prefix", "prefix"},
		{"http://payloads/?token=x", `unknown parameter "token"`},
	} {
		if _, err := storeopen.Open(ctx, tc.url); !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): err = %v, want one naming %q", tc.url, err, tc.want)
		}
	}
}
