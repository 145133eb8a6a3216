package storeurl_test

import (
	"context"
	"fmt"

	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// A command wires the drivers it links, then opens whatever URL its --store flag holds.
func ExampleMux() {
	var mux storeurl.Mux
	mux.Register(memstore.Scheme, memstore.Open)
	// mux.Register(s3store.Scheme, s3store.Open), and so on for each driver to link.

	store, err := mux.Open(context.Background(), "mem://")
	fmt.Println(store, err)
	_, err = mux.Open(context.Background(), "s3://my-blobs/prod")
	fmt.Println(err)
	// Output:
	// memstore <nil>
	// storeurl: store URL "s3://my-blobs/prod": scheme "s3" is not one of mem
}
