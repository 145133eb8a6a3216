package payloadsvc

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
)

// OpenStore opens the store a URL names:
//
//	mem://                                            in memory (tests, demos: lost on exit)
//	file:///var/lib/longhaul                          a directory (filestore)
//	s3://bucket/prefix?region=eu-west-1               S3; credentials from the AWS default chain
//	s3://bucket/prefix?endpoint=http://host:9000      any S3-compatible server (path-style)
//	gs://bucket/prefix                                Google Cloud Storage; Application Default Credentials
//	gs://bucket/prefix?endpoint=http://host:4443&auth=none   a GCS emulator (fake-gcs-server)
//	azblob://container/prefix?account=name            Azure Blob Storage (credentials: see openAzure)
//	azblob://container/prefix?endpoint=http://host:10000/devstoreaccount1&account=devstoreaccount1
//	                                                  Azurite or a sovereign cloud's service URL
func OpenStore(ctx context.Context, storeURL string) (driver.Store, error) {
	u, err := url.Parse(storeURL)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store URL: %w", err)
	}
	switch u.Scheme {
	case "mem":
		if u.Host != "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("payloadsvc: store URL %q: mem:// takes no host or path", storeURL)
		}
		return memstore.New(), nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("payloadsvc: store URL %q: want file:///absolute/dir (three slashes), got host %q", storeURL, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("payloadsvc: store URL %q: no directory", storeURL)
		}
		s, err := filestore.New(u.Path)
		if err != nil {
			return nil, fmt.Errorf("payloadsvc: %w", err)
		}
		return s, nil
	case "s3":
		return openS3(ctx, storeURL, u)
	case "gs":
		return openGCS(ctx, storeURL, u)
	case "azblob":
		return openAzure(storeURL, u)
	default:
		return nil, fmt.Errorf("payloadsvc: store URL %q: scheme %q is not mem, file, s3, gs or azblob", storeURL, u.Scheme)
	}
}

func openS3(ctx context.Context, storeURL string, u *url.URL) (driver.Store, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("payloadsvc: store URL %q: no bucket (want s3://bucket/prefix)", storeURL)
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" {
			return nil, fmt.Errorf("payloadsvc: store URL %q: unknown parameter %q (known: endpoint, region)", storeURL, k)
		}
	}
	var loadOpts []func(*config.LoadOptions) error
	if region := q.Get("region"); region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store %s: aws config: %w", storeURL, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers mostly ignore it; the SDK needs one
	}
	endpoint := q.Get("endpoint")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	s, err := s3store.New(client, u.Host, s3store.Options{Prefix: strings.TrimPrefix(u.Path, "/")})
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store %s: %w", storeURL, err)
	}
	return s, nil
}
