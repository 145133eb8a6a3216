package gcsstore_test

import (
	"context"
	"log"

	"cloud.google.com/go/storage"
	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
)

// A worker that keeps large payloads in Google Cloud Storage. Credentials come from
// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the metadata server,
// gcloud). For fake-gcs-server add option.WithEndpoint("http://127.0.0.1:4443/storage/v1/"),
// option.WithoutAuthentication() and storage.WithJSONReads().
func ExampleNew() {
	ctx := context.Background()
	gcs, err := storage.NewClient(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer gcs.Close()
	store, err := gcsstore.New(gcs, "longhaul-blobs", gcsstore.Options{Prefix: "prod"})
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(store, codec.Options{Namespace: "default"})
	if err != nil {
		log.Fatal(err)
	}
	tc, err := client.Dial(client.Options{
		Namespace:     "default",
		DataConverter: codec.NewDataConverter(c, nil),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close()
	// Start workers and workflows with tc as usual.
}
