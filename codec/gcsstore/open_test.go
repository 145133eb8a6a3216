package gcsstore_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestNoWorkflowDependency: the driver links the driver contract, not the codec and
// the SDK's workflow package.
func TestNoWorkflowDependency(t *testing.T) {
	depcheck.Forbid(t, "github.com/seed-a62fcf0e/longhaul/codec/gcsstore",
		"go.temporal.io/sdk/workflow", "github.com/seed-a62fcf0e/longhaul/codec")
}

func TestOpenBadURL(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	for _, tc := range []struct{ url, want string }{
		{"gs:///prefix", "no bucket (want gs://bucket/prefix)"},
		{"gs://bucket/p?auth=yes", `auth="yes" (want none`},
		{"gs://bucket/p?auth=none&endpont=http://x", `unknown parameter "endpont" (known: endpoint, auth)`},
		{"gs://bucket/bad..//prefix?auth=none", "prefix"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gcsstore.Open(ctx, u); !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): err = %v, want ErrInvalidURL naming %q", tc.url, err, tc.want)
		}
	}
}

// TestOpenStoreGCS opens gs:// against fake-gcs-server and round-trips a blob into the
// bucket under the URL's prefix.
func TestOpenStoreGCS(t *testing.T) {
	srv := testenv.SharedGCS(t)
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	ctx := testenv.Context(t, 2*time.Minute)
	prefix := testenv.UniquePrefix() + "/team-a/payloads"
	storeURL := "gs://" + srv.Bucket + "/" + prefix + "?auth=none&endpoint=" + url.QueryEscape(srv.Endpoint)
	u, err := url.Parse(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	store, err := gcsstore.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := store.(interface{ String() string }).String(), "gcsstore(gs://"+srv.Bucket+"/"+prefix+"/)"; got != want {
		t.Fatalf("store %s, want %s (bucket and prefix from the URL)", got, want)
	}
	b, key := storetest.RandomBlob(t, "default", 6<<20)
	if _, err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	client, err := srv.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	attrs, err := client.Bucket(srv.Bucket).Object(prefix + "/" + key).Attrs(ctx)
	if err != nil || attrs.Size != int64(len(b)) {
		t.Fatalf("object %s/%s in the bucket: %v", prefix, key, err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, store, key), b)
}
