// Package storeurl opens a driver.Store from a URL, the go-cloud way: each driver
// exports its scheme and an opener (s3store.Scheme and s3store.Open, gcsstore,
// azblobstore, filestore, memstore, and blobclient for a payload service's http(s)
// URLs), and a command registers on a Mux the drivers it wants to link. A library
// that takes a driver.Store links no cloud SDK it was not handed.
//
//	var mux storeurl.Mux
//	mux.Register(memstore.Scheme, memstore.Open)
//	mux.Register(s3store.Scheme, s3store.Open)
//	store, err := mux.Open(ctx, "s3://my-blobs/prod?region=eu-west-1")
//
// There is no registration in init functions: what a binary links is what its main
// package says.
package storeurl
