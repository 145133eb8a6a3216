package filestore

import (
	"context"
	"net/url"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// Scheme is the URL scheme Open serves: file:///absolute/dir.
const Scheme = "file"

// Open opens file:///absolute/dir (or file://localhost/absolute/dir), creating the
// directory if needed, for a storeurl.Mux.
func Open(_ context.Context, u *url.URL) (driver.Store, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, storeurl.Invalid("filestore", u, "want file:///absolute/dir (three slashes), got host %q", u.Host)
	}
	if u.Path == "" {
		return nil, storeurl.Invalid("filestore", u, "no directory")
	}
	return New(u.Path)
}
