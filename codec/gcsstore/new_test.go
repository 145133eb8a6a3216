package gcsstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
)

// TestNewRejectsBadOptions: each bad argument is refused with an error that names it,
// and keys outside the grammar are ErrInvalidKey without a request.
func TestNewRejectsBadOptions(t *testing.T) {
	c, err := storage.NewClient(context.Background(), option.WithoutAuthentication(), option.WithEndpoint("http://127.0.0.1:1/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name   string
		client *storage.Client
		bucket string
		opts   gcsstore.Options
		want   string
	}{
		{"NilClient", nil, "b", gcsstore.Options{}, "client is nil"},
		{"NoBucket", c, "", gcsstore.Options{}, "bucket is empty"},
		{"BadPrefix", c, "b", gcsstore.Options{Prefix: "a/../b"}, "prefix"},
		{"TinyParts", c, "b", gcsstore.Options{PartSize: 1000}, "part size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := gcsstore.New(tc.client, tc.bucket, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	// Zero and negative values both mean the default (a negative timeout would fail
	// every request).
	for _, opts := range []gcsstore.Options{{}, {Concurrency: -1, TouchAfter: -time.Hour, AttemptTimeout: -time.Second}} {
		s, err := gcsstore.New(c, "b", opts)
		if err != nil {
			t.Fatal(err)
		}
		if o := s.Options(); o.PartSize != 16<<20 || o.Concurrency != 4 ||
			o.TouchAfter != 24*time.Hour || o.AttemptTimeout != 2*time.Minute {
			t.Errorf("New(%+v): defaults not filled in: %+v", opts, o)
		}
	}
	s, err := gcsstore.New(c, "b", gcsstore.Options{})
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
