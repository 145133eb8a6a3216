package azblobstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// TestNewRejectsBadOptions: each bad argument is refused with an error that names it,
// and keys outside the grammar are ErrInvalidKey without a request.
func TestNewRejectsBadOptions(t *testing.T) {
	c, err := azblob.NewClientWithNoCredential("http://127.0.0.1:1/devstoreaccount1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		client    *azblob.Client
		container string
		opts      azblobstore.Options
		want      string
	}{
		{"NilClient", nil, "b", azblobstore.Options{}, "client is nil"},
		{"NoContainer", c, "", azblobstore.Options{}, "container is empty"},
		{"BadPrefix", c, "b", azblobstore.Options{Prefix: "a/../b"}, "prefix"},
		{"TinyParts", c, "b", azblobstore.Options{PartSize: 1000}, "part size"},
		{"HugeParts", c, "b", azblobstore.Options{PartSize: 5000 << 20}, "part size"},
		{"Archive", c, "b", azblobstore.Options{AccessTier: azblobblob.AccessTierArchive}, "Archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := azblobstore.New(tc.client, tc.container, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	// Zero and negative values both mean the default (a negative timeout would fail
	// every request).
	for _, opts := range []azblobstore.Options{{}, {Concurrency: -1, TouchAfter: -time.Hour, AttemptTimeout: -time.Second}} {
		s, err := azblobstore.New(c, "b", opts)
		if err != nil {
			t.Fatal(err)
		}
		if o := s.Options(); o.PartSize != 16<<20 || o.Concurrency != 4 ||
			o.TouchAfter != 24*time.Hour || o.AttemptTimeout != 2*time.Minute {
			t.Errorf("New(%+v): defaults not filled in: %+v", opts, o)
		}
	}
	s, err := azblobstore.New(c, "b", azblobstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "v1/../x"); !errors.Is(err, driver.ErrInvalidKey) {
		t.Errorf("Get(bad key) = %v, want ErrInvalidKey", err)
	}
	if _, err := s.Put(context.Background(), "", strings.NewReader(""), 0); !errors.Is(err, driver.ErrInvalidKey) {
		t.Errorf("Put(empty key) = %v, want ErrInvalidKey", err)
	}
}
