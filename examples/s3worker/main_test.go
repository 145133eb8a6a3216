package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestS3Worker runs worker and starter against a real dev server and a real S3 server.
func TestS3Worker(t *testing.T) {
	srv := testenv.Temporal(t, testenv.DevServerOptions{})
	s3srv := testenv.S3(t, testenv.S3Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", s3srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3srv.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	env := map[string]string{
		"TEMPORAL_ADDRESS":       srv.Address,
		"LONGHAUL_S3_BUCKET":     s3srv.Bucket,
		"AWS_ENDPOINT_URL_S3":    s3srv.Endpoint,
		"LONGHAUL_S3_PATH_STYLE": "true",
	}
	cfg, err := parseFlags([]string{"-size", "20MiB"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, cfg); err != nil {
		t.Fatalf("s3worker: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "20971520-byte input verified") {
		t.Fatalf("output does not report the verified 20 MiB input:\n%s", out.String())
	}
	objs, err := s3srv.NewClient().ListObjectsV2(ctx, listInput(s3srv.Bucket, "longhaul/v2/default/blake3/"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) == 0 {
		t.Fatal("no blob under longhaul/v2/default/blake3/ in the bucket")
	}
}

func TestFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "-bucket"},
		{[]string{"-bucket", "b", "-mode", "serve"}, "-mode"},
		{[]string{"-bucket", "b", "-size", "lots"}, "-size"},
	} {
		_, err := parseFlags(tc.args, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-help"}, noEnv, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: %v", err)
	}
	for _, v := range []string{"TEMPORAL_ADDRESS", "LONGHAUL_S3_BUCKET", "AWS_ENDPOINT_URL_S3", "AWS_REGION"} {
		if !strings.Contains(help.String(), v) {
			t.Errorf("-help does not mention $%s", v)
		}
	}
}

func listInput(bucket, prefix string) *s3.ListObjectsV2Input {
	return &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"100MiB": 100 << 20, "4GiB": 4 << 30, "10KiB": 10 << 10, "123": 123, "7B": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-5MiB", "abc", "1.5MiB", "0", "5GiB", "3TiB", "1 MiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded, want an error", bad)
		}
	}
}
