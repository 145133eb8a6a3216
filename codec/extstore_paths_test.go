package codec_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// extStoreKinds are the stores the External Storage driver is tested over: the codec's
// (filestore, s3store) and a blobclient.Client in front of a payload service.
func extStoreKinds() []storeKind {
	return append(storeKinds[:len(storeKinds):len(storeKinds)], storeKind{"payloadsvc", func(t *testing.T) driver.Store {
		h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		c, err := blobclient.New(srv.URL, blobclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}})
}

// startExtEnv is startEnv with the SDK's External Storage (codec/extstore over store)
// in place of the longhaul data converter.
func startExtEnv(t *testing.T, store driver.Store) (*env, *extstore.Driver) {
	t.Helper()
	srv := testenv.SharedTemporal(t)
	d, err := extstore.New(store, extstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl := srv.Client(t, client.Options{ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{d}}})
	e := &env{client: cl, store: store, taskQueue: "extstore-" + t.Name()}
	// With External Storage the data converter runs inside workflow code with the deadlock
	// detector on (longhaul's DataConverter suspends it): JSON-encoding 50 MiB there takes
	// over the 1s default on two shared, loaded cores.
	startPathsWorker(t, cl, e.taskQueue, worker.Options{DeadlockDetectionTimeout: 30 * time.Second})
	return e, d
}

// TestExtStorePaths moves a large payload along every path of TestPaths through the SDK's
// External Storage with the extstore driver, over filestore, s3store and payloadsvc: the
// data arrives intact, history holds only small External Storage references, and their
// claims are extstore's (the blobs under the namespace's content addresses).
func TestExtStorePaths(t *testing.T) {
	for _, sk := range extStoreKinds() {
		t.Run(sk.name, func(t *testing.T) {
			for _, tc := range pathCases {
				t.Run(tc.name, func(t *testing.T) {
					store := sk.new(t)
					e, d := startExtEnv(t, store)
					ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
					defer cancel()
					wid := tc.run(t, ctx, e)
					refs := checkExtHistory(t, ctx, e.client, wid, store)
					if refs == 0 && !tc.notInHistory {
						t.Fatal("no External Storage reference in history: nothing was stored")
					}
					if s := d.Stats(); s.PayloadsOffloaded == 0 {
						t.Fatalf("the driver stored nothing: %+v", s)
					}
				})
			}
		})
	}
}

// checkExtHistory checks every payload in the workflow's history is small and every
// External Storage reference carries an extstore claim whose blob is in store; it returns
// how many references it saw.
func checkExtHistory(t *testing.T, ctx context.Context, cl client.Client, workflowID string, store driver.Store) int {
	t.Helper()
	ps, err := testenv.HistoryPayloads(ctx, cl, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, hp := range ps {
		if n := proto.Size(hp.Payload); n > 256<<10 {
			t.Errorf("history event %d (%s) holds a %d-byte payload", hp.Event.EventId, hp.Event.EventType, n)
		}
		if !codec.IsStorageReference(hp.Payload) {
			continue
		}
		refs++
		ref, err := codec.ParseStorageReference(hp.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ref.DriverName != extstore.DefaultName {
			t.Fatalf("event %d: driver %q claim %v", hp.Event.EventId, ref.DriverName, ref.ClaimData)
		}
		key, err := driver.Key(ref.ClaimData["namespace"], ref.ClaimData["hash"], ref.ClaimData["digest"])
		if err != nil {
			t.Fatalf("event %d: claim %v: %v", hp.Event.EventId, ref.ClaimData, err)
		}
		if _, err := store.Touch(ctx, key); err != nil {
			t.Errorf("event %d: blob %s: %v", hp.Event.EventId, key, err)
		}
	}
	return refs
}
