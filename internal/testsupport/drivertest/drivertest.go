// Package drivertest holds the tests the cloud store drivers (codec/gcsstore,
// codec/azblobstore, codec/s3store) share beyond codec/storetest: the same faults
// injected through a testenv.FaultProxy in front of each driver's emulator, and a
// round trip through a Temporal workflow. A driver describes itself in a Driver; the
// suite makes the same assertions for each.
package drivertest

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// FastRetry keeps fault tests quick: millisecond backoffs, bounded by time.
var FastRetry = driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsed: 20 * time.Second}

// Driver is what the fault suite needs to know of one store driver and its emulator.
type Driver struct {
	// Endpoint is the emulator's; Op names its requests for the proxy and its counts.
	Endpoint string
	Op       func(*http.Request) string
	// NewStore returns a store with a fresh prefix (unless o.Prefix is set) on the
	// emulator, reached through endpoint: the emulator itself when empty, or a proxy.
	NewStore func(t testing.TB, endpoint string, o Options) Store
	// Retry is the policy of stores under faults; zero: FastRetry.
	Retry driver.RetryPolicy

	// Busy answers a request as the service does under load (a 503); BusyName names
	// it in subtests ("503", "ServerBusy"). Forbidden answers as it refuses one (403).
	Busy      func(w http.ResponseWriter, r *http.Request)
	BusyName  string
	Forbidden func(w http.ResponseWriter, r *http.Request)

	// PartSize is the part size of stores in RetryOn5xx; PartOp is the request that
	// uploads one part (or a whole small blob, where that is the same request).
	PartSize   int64
	PartOp     string
	RetryCases []RetryCase

	// ReadOp is the request that reads an object's bytes. ClientResumesCutBody is set
	// when the client library re-opens a cut body itself, unseen by Stats().Retries.
	ReadOp               string
	ClientResumesCutBody bool

	// CorruptCases are the uploads CorruptedBodyRejected corrupts; Rejected reports
	// whether a Put error is the service refusing a body against the checksum sent
	// with it. CommitOp, if set, is the request that must not follow a rejected part.
	CorruptCases []CorruptCase
	Rejected     func(err error) bool
	CommitOp     string
}

func (d Driver) retry() driver.RetryPolicy {
	if d.Retry == (driver.RetryPolicy{}) {
		return FastRetry
	}
	return d.Retry
}

// Options are the store options the suite sets; NewStore maps them onto the driver's.
type Options struct {
	Prefix         string
	PartSize       int64
	Concurrency    int
	Retry          driver.RetryPolicy
	AttemptTimeout time.Duration
}

// Store is a store under test with what the suite reads besides the Store contract.
type Store struct {
	driver.Store
	// Stats returns the store's counters.
	Stats func() Stats
	// List returns the names of the objects under the store's prefix.
	List func(t testing.TB, ctx context.Context) []string
}

// Stats are the counters the suite checks; every driver's Stats has them.
type Stats struct {
	Puts, Retries, BytesUp, BytesDown int64
}

// faultPut is a Put of a fresh blob by a store behind a fault proxy, and what it gave.
type faultPut struct {
	proxy   *testenv.FaultProxy
	store   Store
	key     string
	blob    []byte
	created bool
	err     error
}

// putThrough puts a fresh blob of size bytes with a store of d (options o) behind a
// fault proxy whose hook decides each request.
func (d Driver) putThrough(ctx context.Context, t *testing.T, o Options, size int, hook testenv.FaultHook) faultPut {
	t.Helper()
	p := testenv.NewFaultProxy(t, d.Endpoint, d.Op, hook)
	s := d.NewStore(t, p.URL, o)
	b, key := blob(t, size)
	created, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
	return faultPut{proxy: p, store: s, key: key, blob: b, created: created, err: err}
}

// blob returns n random bytes and their content-address key.
func blob(t testing.TB, n int) ([]byte, string) { return storetest.RandomBlob(t, "drivertest", n) }
