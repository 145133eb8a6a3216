// Package storeopen wires every store driver of this module into a storeurl.Mux: the
// one place the commands (payloadsvc, longhaul) get their --store URLs opened from, so
// the libraries they serve link no cloud SDK of their own.
package storeopen

import (
	"context"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// Mux returns a Mux with every driver registered:
//
//	mem://                                            in memory (tests, demos: lost on exit)
//	file:///var/lib/longhaul                          a directory (filestore)
//	s3://bucket/prefix?region=&endpoint=              S3 or an S3-compatible server (s3store.Open)
//	gs://bucket/prefix?endpoint=&auth=none            Google Cloud Storage (gcsstore.Open)
//	azblob://container/prefix?account=&endpoint=      Azure Blob Storage (azblobstore.Open)
//	https://payloads:8080?token_file=                 another payload service (blobclient.Open)
func Mux() *storeurl.Mux {
	m := new(storeurl.Mux)
	m.Register(memstore.Scheme, memstore.Open)
	m.Register(filestore.Scheme, filestore.Open)
	m.Register(s3store.Scheme, s3store.Open)
	m.Register(gcsstore.Scheme, gcsstore.Open)
	m.Register(azblobstore.Scheme, azblobstore.Open)
	m.Register(blobclient.SchemeHTTP, blobclient.Open)
	m.Register(blobclient.SchemeHTTPS, blobclient.Open)
	return m
}

// Open opens the store rawURL names with Mux's drivers.
func Open(ctx context.Context, rawURL string) (driver.Store, error) {
	return Mux().Open(ctx, rawURL)
}
