package azblobstore_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestNoWorkflowDependency: the driver links the driver contract, not the codec and
// the SDK's workflow package.
func TestNoWorkflowDependency(t *testing.T) {
	depcheck.Forbid(t, "github.com/seed-a62fcf0e/longhaul/codec/azblobstore",
		"go.temporal.io/sdk/workflow", "github.com/seed-a62fcf0e/longhaul/codec")
}

func TestOpenBadURL(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	for _, tc := range []struct {
		name, url, want string
		env             map[string]string
	}{
		{"no container", "azblob:///prefix", "no container (want azblob://container/prefix)", nil},
		{"unknown parameter", "azblob://c/p?acount=x", `unknown parameter "acount" (known: endpoint, account)`, nil},
		{"no account", "azblob://c/p", "no account (set account= or endpoint=, or $AZURE_STORAGE_ACCOUNT)", nil},
		{"key without account", "azblob://c/p?endpoint=http://127.0.0.1:1/acct", "$AZURE_STORAGE_KEY needs the account name",
			map[string]string{"AZURE_STORAGE_KEY": testenv.AzuriteKey}},
		{"bad prefix", "azblob://c/bad..//prefix?account=a", "prefix", map[string]string{"AZURE_STORAGE_KEY": testenv.AzuriteKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING"} {
				t.Setenv(k, tc.env[k])
			}
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := azblobstore.Open(ctx, u); !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%s): err = %v, want ErrInvalidURL naming %q", tc.url, err, tc.want)
			}
		})
	}
}

// TestOpenStoreAzure opens azblob:// against Azurite, the account key from the
// environment as in production, and round-trips a blob into the container under the
// URL's prefix.
func TestOpenStoreAzure(t *testing.T) {
	srv := testenv.SharedAzurite(t)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("AZURE_STORAGE_KEY", srv.Key)
	ctx := testenv.Context(t, 2*time.Minute)
	prefix := testenv.UniquePrefix() + "/team-a/payloads"
	u, err := url.Parse("azblob://" + srv.Container + "/" + prefix + "?account=" + srv.Account + "&endpoint=" + url.QueryEscape(srv.ServiceURL))
	if err != nil {
		t.Fatal(err)
	}
	store, err := azblobstore.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := store.(interface{ String() string }).String(), "azblobstore(azblob://"+srv.Container+"/"+prefix+"/)"; got != want {
		t.Fatalf("store %s, want %s (container and prefix from the URL)", got, want)
	}
	b, key := storetest.RandomBlob(t, "default", 6<<20)
	if _, err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	client, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	props, err := client.ServiceClient().NewContainerClient(srv.Container).NewBlobClient(prefix+"/"+key).GetProperties(ctx, nil)
	if err != nil || props.ContentLength == nil || *props.ContentLength != int64(len(b)) {
		t.Fatalf("blob %s/%s in the container: %v", prefix, key, err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, store, key), b)
}
