package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
)

// bucketName is the grammar of S3 bucket names (3-63 lowercase letters, digits, dots and
// hyphens, starting and ending with a letter or digit).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// validateReaders checks --read-datadog and --read-temporal-s3 before anything starts.
func (c *config) validateReaders() error {
	if c.readDataDog != "" {
		u, err := url.Parse(c.readDataDog)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--read-datadog %q: want the service's http(s) base URL, like http://lps:8577", c.readDataDog)
		}
	}
	for _, b := range c.readTemporalS3.values {
		if !bucketName.MatchString(b) {
			return fmt.Errorf("--read-temporal-s3 %q: not an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)", b)
		}
	}
	return nil
}

// foreignReaders builds the codec.Readers for references other offloaders left in
// history, as --read-datadog and --read-temporal-s3 ask. Each reads at most what a blob
// may hold here (--max-blob-bytes), and never more than its own default bound.
func foreignReaders(ctx context.Context, cfg *config, log *slog.Logger) ([]codec.Reader, error) {
	var readers []codec.Reader
	if cfg.readDataDog != "" {
		r, err := datadog.NewReader(datadog.Options{
			URL:     cfg.readDataDog,
			MaxSize: min(datadog.DefaultMaxSize, int64(cfg.maxBlobBytes)),
		})
		if err != nil {
			return nil, fmt.Errorf("--read-datadog: %w", err)
		}
		readers = append(readers, r)
		log.Info("payloadsvc: decoding DataDog large-payload references", "url", cfg.readDataDog)
	}
	if buckets := cfg.readTemporalS3.values; len(buckets) > 0 {
		client, err := temporalS3Client(ctx)
		if err != nil {
			return nil, fmt.Errorf("--read-temporal-s3: %w", err)
		}
		r, err := temporals3.New(temporals3.Options{
			Client:  client,
			Buckets: buckets,
			MaxSize: min(temporals3.DefaultMaxSize, int64(cfg.maxBlobBytes)),
		})
		if err != nil {
			return nil, fmt.Errorf("--read-temporal-s3: %w", err)
		}
		readers = append(readers, r)
		log.Info("payloadsvc: decoding Temporal S3 driver claims", "buckets", buckets, "endpoint", aws.ToString(client.Options().BaseEndpoint))
	}
	return readers, nil
}

// temporalS3Client is an S3 client as applications build it: the AWS default chain for
// credentials and region, response checksum validation as the SDK sets it. An endpoint
// from the environment or config file (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) is an
// S3-compatible server, addressed path-style as --store s3://...?endpoint= does.
func temporalS3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers mostly ignore it; the SDK needs one
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if aws.ToString(o.BaseEndpoint) != "" {
			o.UsePathStyle = true
		}
	}), nil
}
