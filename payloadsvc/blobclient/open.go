package blobclient

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// The URL schemes Open serves: a payload service's base URL.
const (
	SchemeHTTP  = "http"
	SchemeHTTPS = "https"
)

// Open opens the payload service at a base URL as a store, for a storeurl.Mux:
//
//	https://payloads.internal:8080                                the service, no token
//	https://payloads.internal:8080/prefix?token_file=/run/secrets/token
//
// token_file= names a file holding the bearer token (surrounding white space trimmed),
// so the token itself never appears in a URL, a flag or a log line. Other options keep
// their defaults; use New for more.
func Open(_ context.Context, u *url.URL) (driver.Store, error) {
	if err := storeurl.CheckParams("blobclient", u, "token_file"); err != nil {
		return nil, err
	}
	var opts Options
	if path := u.Query().Get("token_file"); path != "" {
		tok, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("blobclient: open %s: token_file: %w", u.Redacted(), err)
		}
		if opts.Token = string(bytes.TrimSpace(tok)); opts.Token == "" {
			return nil, storeurl.Invalid("blobclient", u, "token_file %s is empty", path)
		}
	}
	base := *u
	base.RawQuery, base.ForceQuery = "", false
	c, err := New(base.String(), opts)
	if err != nil {
		return nil, storeurl.InvalidBecause("blobclient", u, err)
	}
	return c, nil
}
