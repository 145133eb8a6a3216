package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// At start-up the service compares the store's lifecycle with the namespace retention
// and warns when a rule would delete blobs in use; it says so at info level when the rule
// is safe, and skips the check without --temporal-address.
func TestStartupRetentionCheck(t *testing.T) {
	dev := testenv.Temporal(t, testenv.DevServerOptions{})
	srv := testenv.S3(t, testenv.S3Options{})
	proxy := testenv.LifecycleProxy(t, srv)
	ctx := testenv.Context(t, 2*time.Minute)
	env := []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_REGION=" + srv.Region}
	store := fmt.Sprintf("s3://%s/prod?endpoint=%s&region=%s", srv.Bucket, proxy.URL, srv.Region)
	tests := []struct {
		name string
		days int32
		args []string
		want string
	}{
		{"unsafe", 10, []string{"--temporal-address", dev.Address, "--max-run", "720h"},
			`level=WARN msg="payloadsvc: retention check" verdict=would-delete-blobs-in-use ` +
				`store=s3store(s3://longhaul-test/prod/) namespace=default`},
		{"ok", 60, []string{"--temporal-address", dev.Address, "--max-run", "720h"},
			`level=INFO msg="payloadsvc: retention check" verdict=ok`},
		{"skipped", 10, nil, `level=INFO msg="payloadsvc: retention check skipped: set --temporal-address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := srv.NewClientFor(proxy.URL).PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
				Bucket: aws.String(srv.Bucket), LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
					ID: aws.String("blobs"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("prod/")},
					Expiration: &types.LifecycleExpiration{Days: aws.Int32(tt.days)},
				}}}})
			if err != nil {
				t.Fatal(err)
			}
			p := start(t, env, append([]string{"--store", store}, tt.args...)...)
			waitFor(t, 30*time.Second, tt.want, func() bool { return strings.Contains(p.logs.String(), tt.want) })
		})
	}
}
