package main

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/iterator"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// S3: the killed upload is an incomplete multipart upload; debris counts its parts.
func TestSweepUploadsS3(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	admin := srv.NewClient()
	testSweep(t, sweepCase{
		url:  s3URL(srv, srv.Endpoint, "sweep"),
		env:  s3Env(srv),
		name: func(key string) string { return "sweep/" + key },
		debris: func(ctx context.Context, t *testing.T, name string) int {
			out, err := admin.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket), Prefix: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			parts := 0
			for _, u := range out.Uploads {
				lp, err := admin.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(srv.Bucket), Key: u.Key, UploadId: u.UploadId})
				if err != nil {
					t.Fatal(err)
				}
				parts += len(lp.Parts)
			}
			return parts
		},
	})
}

// GCS: the killed upload leaves part objects under the store's .uploads/ directory.
func TestSweepUploadsGCS(t *testing.T) {
	srv := testenv.SharedGCS(t)
	ctx := testenv.Context(t, time.Minute)
	gc, err := srv.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gc.Close() })
	testSweep(t, sweepCase{
		url:  "gs://" + srv.Bucket + "/sweep?auth=none&endpoint=" + url.QueryEscape(srv.Endpoint),
		name: func(key string) string { return "sweep/.uploads/" },
		debris: func(ctx context.Context, t *testing.T, dir string) int {
			it := gc.Bucket(srv.Bucket).Objects(ctx, &storage.Query{Prefix: dir})
			n := 0
			for {
				_, err := it.Next()
				if errors.Is(err, iterator.Done) {
					return n
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
		},
	})
}

// Azure: the killed upload leaves uncommitted blocks on the blob's name.
func TestSweepUploadsAzure(t *testing.T) {
	srv := testenv.SharedAzurite(t)
	ac, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	container := ac.ServiceClient().NewContainerClient(srv.Container)
	testSweep(t, sweepCase{
		url:  "azblob://" + srv.Container + "/sweep?account=" + srv.Account + "&endpoint=" + url.QueryEscape(srv.ServiceURL),
		env:  []string{"AZURE_STORAGE_KEY=" + srv.Key},
		name: func(key string) string { return "sweep/" + key },
		debris: func(ctx context.Context, t *testing.T, name string) int {
			bl, err := container.NewBlockBlobClient(name).GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
			if err != nil {
				return 0 // no blob of that name, committed or not
			}
			return len(bl.UncommittedBlocks)
		},
	})
}

// fake-gcs-server keeps no lifecycle, so its bucket reads as having no rules (no-expiry,
// exit 1); Azure's policies are not visible to the Blob API (cannot-tell, exit 3, with the
// safe age).
func TestCheckRetentionGCSAndAzure(t *testing.T) {
	gcs, az := testenv.SharedGCS(t), testenv.SharedAzurite(t)
	tests := []struct {
		name, url string
		env       []string
		code      int
		want      []string
	}{
		{"gcs", "gs://" + gcs.Bucket + "/prod?auth=none&endpoint=" + url.QueryEscape(gcs.Endpoint), nil, exitProblems,
			[]string{"verdict:   no-expiry", `blobs under "prod/v1/" and "prod/v2/"`, `prefix "prod/v2/": no-expiry`, "storage grows forever"}},
		{"azure", "azblob://" + az.Container + "/prod?account=" + az.Account + "&endpoint=" + url.QueryEscape(az.ServiceURL),
			[]string{"AZURE_STORAGE_KEY=" + az.Key}, exitCannotTell,
			[]string{"verdict:   cannot-tell", "Azure Resource Manager", "daysAfterModificationGreaterThan", "at least 39 days",
				`prefixMatch "` + az.Container + `/prod/v1/" and "` + az.Container + `/prod/v2/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "check", "retention", "--store", tt.url, "--namespace", "ops", "--retention", "7d", "--max-run", "30d")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}
