package temporals3_test

import (
	"context"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// A worker that used Temporal's S3 driver lists the Reader under that driver's name next
// to the longhaul Driver that stores new payloads; the codec server lists the same Reader
// in codec.Options.Readers so the UI and CLI decode the old claims too.
func ExampleNew() {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	old, err := temporals3.New(temporals3.Options{
		Client: s3.NewFromConfig(cfg), Buckets: []string{"old-payload-bucket"}, // Name: "aws.s3driver"
	})
	if err != nil {
		panic(err)
	}
	primary, err := extstore.New(memstore.New(), extstore.Options{}) // a cloud store in production
	if err != nil {
		panic(err)
	}
	cl, err := client.Dial(client.Options{ExternalStorage: converter.ExternalStorage{
		Drivers:        []converter.StorageDriver{primary, old},
		DriverSelector: extstore.Always(primary), // new payloads go to longhaul
	}})
	if err != nil {
		panic(err)
	}
	defer cl.Close()

	// The codec server's codec (payloadsvc.Options.Codec) reads the same claims.
	_ = codec.Options{Readers: []codec.Reader{old}}
}
