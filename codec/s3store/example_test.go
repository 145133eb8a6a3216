package s3store_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
)

// A worker that keeps large payloads in S3. Credentials and region come from the usual
// AWS sources (environment, shared config, instance role).
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s3client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Only for an S3-compatible server (versitygw, MinIO, Ceph): its endpoint, and
		// path-style addressing. Leave both out for AWS.
		o.BaseEndpoint = aws.String("http://127.0.0.1:7070")
		o.UsePathStyle = true
	})
	store, err := s3store.New(s3client, "longhaul-blobs", s3store.Options{Prefix: "prod"})
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
