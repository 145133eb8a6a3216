package azblobstore_test

import (
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
)

// A worker that keeps large payloads in Azure Blob Storage, signed in with a managed or
// workload identity (azidentity). For Azurite use azblob.NewClientWithSharedKeyCredential
// on "http://127.0.0.1:10000/devstoreaccount1" with the development account's key.
func ExampleNew() {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	az, err := azblob.NewClient("https://longhaulacct.blob.core.windows.net/", cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	store, err := azblobstore.New(az, "longhaul-blobs", azblobstore.Options{Prefix: "prod"})
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
