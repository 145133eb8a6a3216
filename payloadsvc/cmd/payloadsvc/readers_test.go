package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestReaderFlags: --read-datadog takes an http(s) base URL, --read-temporal-s3 bucket
// names (repeatable, or comma-separated in the variable); anything else is refused
// naming the flag.
func TestReaderFlags(t *testing.T) {
	args := []string{"--read-datadog", "https://lps.internal:8577/base", "--read-temporal-s3", "old-a", "--read-temporal-s3", "old.b"}
	c, err := parseConfig(args,
		env(map[string]string{"LONGHAUL_READ_TEMPORAL_S3": "from-env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.readDataDog != "https://lps.internal:8577/base" || strings.Join(c.readTemporalS3.values, " ") != "old-a old.b" {
		t.Fatalf("readers %q %q", c.readDataDog, c.readTemporalS3.values)
	}
	c, err = parseConfig(nil, env(map[string]string{"LONGHAUL_READ_TEMPORAL_S3": "one-bucket, two-bucket"}), io.Discard)
	if err != nil || len(c.readTemporalS3.values) != 2 {
		t.Fatalf("buckets from the variable: %v, %v", c.readTemporalS3.values, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--read-datadog", "lps:8577"}, "--read-datadog"},
		{[]string{"--read-datadog", "ftp://lps"}, "--read-datadog"},
		{[]string{"--read-datadog", "http://lps/?key=x"}, "--read-datadog"},
		{[]string{"--read-temporal-s3", "Upper_Case"}, "--read-temporal-s3"},
		{[]string{"--read-temporal-s3", "ab"}, "--read-temporal-s3"},
		{[]string{"--read-temporal-s3", "s3://bucket"}, "--read-temporal-s3"},
	} {
		if _, err := parseConfig(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q): err = %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}

// TestForeignReadersFromFlags: each flag adds its reader; an S3 endpoint from
// AWS_ENDPOINT_URL_S3 is used path-style, as --store s3://...?endpoint= does, and AWS's own
// endpoints are not.
func TestForeignReadersFromFlags(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	unsetenv(t, "AWS_ENDPOINT_URL")
	c, err := parseConfig([]string{"--read-datadog", "http://lps:8577", "--read-temporal-s3", "old-bucket"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	readers, err := foreignReaders(context.Background(), c, log)
	if err != nil || len(readers) != 2 {
		t.Fatalf("foreignReaders: %d readers, %v; want 2", len(readers), err)
	}
	for _, tc := range []struct {
		endpoint  string
		pathStyle bool
	}{{"http://127.0.0.1:7070", true}, {"", false}} {
		if t.Setenv("AWS_ENDPOINT_URL_S3", tc.endpoint); tc.endpoint == "" {
			unsetenv(t, "AWS_ENDPOINT_URL_S3")
		}
		cl, err := temporalS3Client(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		o := cl.Options()
		if o.UsePathStyle != tc.pathStyle || aws.ToString(o.BaseEndpoint) != tc.endpoint || o.Region == "" {
			t.Errorf("AWS_ENDPOINT_URL_S3=%q: path-style %v, endpoint %q, region %q; want path-style %v", tc.endpoint, o.UsePathStyle,
				aws.ToString(o.BaseEndpoint), o.Region, tc.pathStyle)
		}
	}
}

// unsetenv removes a variable for the test (t.Setenv restores it afterwards).
func unsetenv(t *testing.T, k string) {
	t.Setenv(k, "")
	os.Unsetenv(k)
}
