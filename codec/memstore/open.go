package memstore

import (
	"context"
	"net/url"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// Scheme is the URL scheme Open serves: mem://, a store in this process's memory.
const Scheme = "mem"

// Open opens mem:// (nothing after it: each call is a new, empty store), for a
// storeurl.Mux. Blobs are lost when the process exits.
func Open(_ context.Context, u *url.URL) (driver.Store, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") {
		return nil, storeurl.Invalid("memstore", u, "mem:// takes no host or path")
	}
	return New(), nil
}
