package azblobstore_test

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// server returns the package's emulator, shared by its tests (each store has a prefix
// of its own).
func server(t testing.TB) *testenv.AzuriteServer { return testenv.SharedAzurite(t) }

func TestMain(m *testing.M) { testenv.Main(m) }

// newStore returns a store with a fresh prefix on srv, reached through endpoint (the
// server itself when empty, or a proxy in front of it).
func newStore(t testing.TB, srv *testenv.AzuriteServer, endpoint string, opts azblobstore.Options) *azblobstore.Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = testenv.UniquePrefix()
	}
	if opts.Logger == nil {
		opts.Logger = testenv.Logger(t)
	}
	s, err := azblobstore.New(newClient(t, srv, endpoint), srv.Container, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newClient(t testing.TB, srv *testenv.AzuriteServer, endpoint string) *azblob.Client {
	t.Helper()
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	c, err := srv.NewClientFor(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// blob returns n random bytes and their content-address key.
func blob(t testing.TB, n int) ([]byte, string) { return storetest.RandomBlob(t, "aztest", n) }

// listBlobs returns the names of the committed blobs under the store's prefix.
func listBlobs(t testing.TB, ctx context.Context, srv *testenv.AzuriteServer, s *azblobstore.Store) []string {
	t.Helper()
	prefix := s.Options().Prefix + "/"
	pager := newClient(t, srv, "").ServiceClient().NewContainerClient(srv.Container).
		NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	var names []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list blobs: %v", err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

// blobProps returns a blob's properties straight from the server.
func blobProps(t testing.TB, ctx context.Context, srv *testenv.AzuriteServer, s *azblobstore.Store, key string) azblobblob.GetPropertiesResponse {
	t.Helper()
	name, err := s.BlobName(key)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newClient(t, srv, "").ServiceClient().NewContainerClient(srv.Container).NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		t.Fatalf("properties of %s: %v", name, err)
	}
	return p
}
