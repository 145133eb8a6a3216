package gcsstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// Scheme is the URL scheme Open serves: gs://bucket/prefix.
const Scheme = "gs"

// Open opens a Google Cloud Storage bucket under a prefix, for a storeurl.Mux:
//
//	gs://bucket/prefix                                      Application Default Credentials
//	gs://bucket/prefix?endpoint=http://host:4443&auth=none  an emulator (fake-gcs-server)
//
// endpoint= names another JSON API endpoint (an emulator, Private Service Connect) and
// auth=none sends no credentials. STORAGE_EMULATOR_HOST is honoured as by the client
// library.
func Open(ctx context.Context, u *url.URL) (driver.Store, error) {
	loc, err := storeurl.ParseLocation("gcsstore", u, "bucket", "endpoint", "auth")
	if err != nil {
		return nil, err
	}
	q := loc.Query
	var opts []option.ClientOption
	if ep := q.Get("endpoint"); ep != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(ep, "/")+"/storage/v1/"), storage.WithJSONReads())
	}
	switch q.Get("auth") {
	case "":
	case "none":
		opts = append(opts, option.WithoutAuthentication())
	default:
		return nil, storeurl.Invalid("gcsstore", u, "auth=%q (want none, or leave it out for default credentials)", q.Get("auth"))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcsstore: open %s: gcs client: %w", u.Redacted(), err)
	}
	s, err := New(client, loc.Bucket, Options{Prefix: loc.Prefix})
	if err != nil {
		client.Close()
		return nil, storeurl.InvalidBecause("gcsstore", u, err)
	}
	return s, nil
}
