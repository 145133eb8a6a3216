package payloadsvc

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestOpenStoreCloud opens gs:// against fake-gcs-server and azblob:// against Azurite
// (the account key from the environment, as in production) and round-trips a blob
// through the service into the bucket or container under the URL's prefix.
func TestOpenStoreCloud(t *testing.T) {
	t.Run("GCS", func(t *testing.T) {
		srv := testenv.GCS(t, testenv.GCSOptions{})
		t.Setenv("STORAGE_EMULATOR_HOST", "")
		roundTripOpened(t, "gs://"+srv.Bucket+"/team-a/payloads?auth=none&endpoint="+url.QueryEscape(srv.Endpoint),
			"gcsstore(gs://"+srv.Bucket+"/team-a/payloads/)")
	})
	t.Run("Azure", func(t *testing.T) {
		srv := testenv.Azurite(t, testenv.AzuriteOptions{})
		t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
		t.Setenv("AZURE_STORAGE_KEY", srv.Key)
		roundTripOpened(t, "azblob://"+srv.Container+"/team-a/payloads?account="+srv.Account+"&endpoint="+url.QueryEscape(srv.ServiceURL),
			"azblobstore(azblob://"+srv.Container+"/team-a/payloads/)")
	})
}

// roundTripOpened opens storeURL, checks the store's name, and puts and gets a 6 MiB
// blob through a service over it.
func roundTripOpened(t *testing.T, storeURL, wantName string) {
	ctx := testCtx(t, 2*time.Minute)
	store, err := OpenStore(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.(interface{ String() string }).String(); got != wantName {
		t.Fatalf("store %s, want %s (bucket and prefix from the URL)", got, wantName)
	}
	c := startService(t, store, Options{}).client(t, blobclient.Options{})
	b, digest := randomBlob(t, 6<<20)
	key, _ := driver.Key("default", digest)
	if _, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b)
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, store, key), b) // straight from the bucket
	if _, err := OpenStore(ctx, strings.Replace(storeURL, "?", "?bogus=1&", 1)); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("OpenStore with an unknown parameter: %v", err)
	}
}
