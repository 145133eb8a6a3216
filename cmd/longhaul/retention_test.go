package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// s3Env is the environment the command needs to reach versitygw.
func s3Env(s *testenv.S3Server) []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey, "AWS_REGION=" + s.Region,
		"AWS_EC2_METADATA_DISABLED=true"}
}

func s3URL(s *testenv.S3Server, endpoint, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=%s", s.Bucket, prefix, endpoint, s.Region)
}

// registerNamespace creates a namespace with the given retention on the dev server.
func registerNamespace(t *testing.T, c client.Client, name string, retention time.Duration) {
	t.Helper()
	ctx := testenv.Context(t, time.Minute)
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rule(id, prefix string, f func(*types.LifecycleRule)) types.LifecycleRule {
	r := types.LifecycleRule{ID: aws.String(id), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String(prefix)}}
	f(&r)
	return r
}

func expireAfter(days int32) func(*types.LifecycleRule) {
	return func(r *types.LifecycleRule) { r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(days)} }
}

func abortAfter(days int32) func(*types.LifecycleRule) {
	return func(r *types.LifecycleRule) {
		r.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(days)}
	}
}

// The four verdicts, on lifecycle configurations put with PutBucketLifecycleConfiguration
// and a namespace retention of 7 days read from the dev server.
func TestCheckRetentionVerdicts(t *testing.T) {
	dev := testenv.SharedTemporal(t)
	c := dev.Client(t, client.Options{})
	registerNamespace(t, c, "ops-retention-7d", 7*24*time.Hour)
	srv := testenv.S3(t, testenv.S3Options{})
	proxy := testenv.LifecycleProxy(t, srv)
	admin := srv.NewClientFor(proxy.URL)
	ctx := testenv.Context(t, 2*time.Minute)
	disabled := rule("off", "", expireAfter(1))
	disabled.Status = types.ExpirationStatusDisabled
	tests := []struct {
		name     string
		rules    []types.LifecycleRule // nil: no configuration
		endpoint string
		code     int
		verdict  string
		prefixes [2]string // the verdicts of prod/v1/ and prod/v2/
		want     []string
	}{
		{"ok", []types.LifecycleRule{rule("blobs", "prod/", expireAfter(60)), rule("mpu", "prod/", abortAfter(1))}, proxy.URL,
			exitOK, "ok", [2]string{"ok", "ok"}, []string{`"prod/v1/ops-retention-7d/" after 60 days, 21 days more than the 39 needed`,
				`"prod/v2/ops-retention-7d/" after 60 days`, "cleans-incomplete-uploads", `blobs under "prod/v1/" and "prod/v2/"`}},
		{"ok per version", []types.LifecycleRule{rule("blobs", "prod/v1/", expireAfter(60)), rule("blobs-v2", "prod/v2/", expireAfter(45))},
			proxy.URL, exitOK, "ok", [2]string{"ok", "ok"},
			[]string{"21 days more than the 39 needed", "6 days more than the 39 needed", `prefix "prod/v1/": ok`, `prefix "prod/v2/": ok`}},
		{"v1 rule only", []types.LifecycleRule{rule("blobs", "prod/v1/", expireAfter(60))}, proxy.URL, exitProblems, "no-expiry",
			[2]string{"ok", "no-expiry"}, []string{`prefix "prod/v1/": ok`, `prefix "prod/v2/": no-expiry`,
				`no enabled rule expires objects under "prod/v2/ops-retention-7d/"`}},
		{"unsafe", []types.LifecycleRule{rule("short", "prod/", expireAfter(30))}, proxy.URL, exitProblems,
			"would-delete-blobs-in-use", [2]string{"would-delete-blobs-in-use", "would-delete-blobs-in-use"},
			[]string{`rule "short" (Expiration.Days=30)`, "9 days too early", `"prod/v1/ops-retention-7d/"`, `"prod/v2/ops-retention-7d/"`}},
		{"v2 too early", []types.LifecycleRule{rule("blobs", "prod/v1/", expireAfter(60)), rule("v2", "prod/v2/", expireAfter(10))},
			proxy.URL, exitProblems, "would-delete-blobs-in-use", [2]string{"ok", "would-delete-blobs-in-use"},
			[]string{`prefix "prod/v2/": would-delete-blobs-in-use`, `deletes blobs under "prod/v2/ops-retention-7d/" after 10 days`}},
		{"no expiry", []types.LifecycleRule{disabled, rule("mpu", "", abortAfter(2)), rule("logs", "logs/", expireAfter(1))},
			proxy.URL, exitProblems, "no-expiry", [2]string{"no-expiry", "no-expiry"},
			[]string{"rule is disabled", "storage grows forever", `does not cover the blobs`}},
		{"no configuration", nil, proxy.URL, exitProblems, "no-expiry", [2]string{"no-expiry", "no-expiry"}, []string{"at least 39 days"}},
		{"cannot tell", nil, srv.Endpoint, exitCannotTell, "cannot-tell", [2]string{"cannot-tell", "cannot-tell"},
			[]string{"NotImplemented", `"prod/v1/" and "prod/v2/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.rules == nil {
				_, err = admin.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(srv.Bucket)})
			} else {
				_, err = admin.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
					Bucket: aws.String(srv.Bucket), LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: tt.rules}})
			}
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"check", "retention", "--store", s3URL(srv, tt.endpoint, "prod"), "--namespace", "ops-retention-7d",
				"--max-run", "30d", "--address", dev.Address}
			text := runCLI(t, s3Env(srv), args...)
			t.Logf("check retention output (exit %d):\n%s", text.code, text.stdout)
			if text.code != tt.code || !strings.Contains(text.stdout, "verdict:   "+tt.verdict) {
				t.Fatalf("exit %d, want %d and verdict %s\nstdout:\n%s\nstderr:\n%s", text.code, tt.code, tt.verdict, text.stdout, text.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(text.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, text.stdout)
				}
			}
			js := runCLI(t, s3Env(srv), append(args, "--output", "json")...)
			var rep struct {
				Verdict    string `json:"verdict"`
				NeededDays int    `json:"neededDays"`
				Retention  string `json:"retention"`
				Prefixes   []struct {
					Prefix, Verdict string
				} `json:"prefixes"`
			}
			if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil || js.code != tt.code {
				t.Fatalf("json: exit %d, %v: %s", js.code, err, js.stdout)
			}
			if rep.Verdict != tt.verdict || rep.NeededDays != 39 || rep.Retention != "7d" || len(rep.Prefixes) != 2 {
				t.Fatalf("json report %+v", rep)
			}
			for i, prefix := range []string{"prod/v1/", "prod/v2/"} {
				if p := rep.Prefixes[i]; p.Prefix != prefix || p.Verdict != tt.prefixes[i] {
					t.Errorf("json prefix %d: %+v, want %s %s", i, p, prefix, tt.prefixes[i])
				}
			}
		})
	}
}
