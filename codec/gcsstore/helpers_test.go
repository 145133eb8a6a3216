package gcsstore_test

import (
	"context"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// server returns the package's emulator, shared by its tests (each store has a prefix
// of its own).
func server(t testing.TB) *testenv.GCSServer { return testenv.SharedGCS(t) }

func TestMain(m *testing.M) { testenv.Main(m) }

// newStore returns a store with a fresh prefix on srv, reached through endpoint (the
// server itself when empty, or a proxy in front of it).
func newStore(t testing.TB, srv *testenv.GCSServer, endpoint string, opts gcsstore.Options) *gcsstore.Store {
	t.Helper()
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	if opts.Prefix == "" {
		opts.Prefix = testenv.UniquePrefix()
	}
	if opts.Logger == nil {
		opts.Logger = testenv.Logger(t)
	}
	s, err := gcsstore.New(newClient(t, srv, endpoint), srv.Bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newClient(t testing.TB, srv *testenv.GCSServer, endpoint string) *storage.Client {
	t.Helper()
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	c, err := srv.NewClientFor(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// blob returns n random bytes and their content-address key.
func blob(t testing.TB, n int) ([]byte, string) { return storetest.RandomBlob(t, "gcstest", n) }

// listObjects returns the names of the objects under the store's prefix, uploads in
// progress included.
func listObjects(t testing.TB, ctx context.Context, srv *testenv.GCSServer, s *gcsstore.Store) []string {
	t.Helper()
	c := newClient(t, srv, "")
	it := c.Bucket(srv.Bucket).Objects(ctx, &storage.Query{Prefix: s.Options().Prefix + "/"})
	var names []string
	for {
		a, err := it.Next()
		if err == iterator.Done {
			return names
		}
		if err != nil {
			t.Fatalf("list objects: %v", err)
		}
		names = append(names, a.Name)
	}
}

// objectAttrs returns an object's attributes straight from the server.
func objectAttrs(t testing.TB, ctx context.Context, srv *testenv.GCSServer, s *gcsstore.Store, key string) *storage.ObjectAttrs {
	t.Helper()
	name, err := s.ObjectName(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newClient(t, srv, "").Bucket(srv.Bucket).Object(name).Attrs(ctx)
	if err != nil {
		t.Fatalf("attrs %s: %v", name, err)
	}
	return a
}
