package s3store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// Scheme is the URL scheme Open serves: s3://bucket/prefix.
const Scheme = "s3"

// Open opens an S3 bucket under a prefix, for a storeurl.Mux:
//
//	s3://bucket/prefix?region=eu-west-1           S3; credentials from the AWS default chain
//	s3://bucket/prefix?endpoint=http://host:9000  any S3-compatible server (path-style)
//	s3://bucket/prefix?checksum=crc32c            Options.Checksum, for a server without CRC64NVME
//
// Without region= (or one from the default chain) the client signs for us-east-1,
// which S3-compatible servers mostly ignore.
func Open(ctx context.Context, u *url.URL) (driver.Store, error) {
	loc, err := storeurl.ParseLocation("s3store", u, "bucket", "checksum", "endpoint", "region")
	if err != nil {
		return nil, err
	}
	var loadOpts []func(*config.LoadOptions) error
	if region := loc.Query.Get("region"); region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3store: open %s: aws config: %w", u.Redacted(), err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers mostly ignore it; the SDK needs one
	}
	endpoint := loc.Query.Get("endpoint")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	checksum := types.ChecksumAlgorithm(strings.ToUpper(loc.Query.Get("checksum")))
	s, err := New(client, loc.Bucket, Options{Prefix: loc.Prefix, Checksum: checksum})
	if err != nil {
		return nil, storeurl.InvalidBecause("s3store", u, err)
	}
	return s, nil
}
