package filestore_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	for _, tc := range []struct{ url, wantErr string }{
		{"file://" + dir, ""},
		{"file://localhost" + dir, ""},
		{"file://host/dir", `want file:///absolute/dir (three slashes), got host "host"`},
		{"file://", "no directory"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		s, err := filestore.Open(context.Background(), u)
		if tc.wantErr == "" {
			if fs, ok := s.(*filestore.Store); err != nil || !ok || fs.Dir() != dir {
				t.Errorf("Open(%s) = %v, %v; want a filestore in %s", tc.url, s, err, dir)
			}
		} else if !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Open(%s): err = %v, want ErrInvalidURL naming %q", tc.url, err, tc.wantErr)
		}
	}
}
