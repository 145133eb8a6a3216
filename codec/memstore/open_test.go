package memstore_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

func TestOpen(t *testing.T) {
	for _, tc := range []struct{ url, wantErr string }{
		{"mem://", ""},
		{"mem:///", ""},
		{"mem://x", "mem:// takes no host or path"},
		{"mem:///blobs", "mem:// takes no host or path"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		s, err := memstore.Open(context.Background(), u)
		if tc.wantErr == "" {
			if _, ok := s.(*memstore.Store); err != nil || !ok {
				t.Errorf("Open(%s) = %T, %v; want a memstore", tc.url, s, err)
			}
		} else if !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Open(%s): err = %v, want ErrInvalidURL naming %q", tc.url, err, tc.wantErr)
		}
	}
}
