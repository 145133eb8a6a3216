package azblobstore_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// azOp names a Blob service request.
func azOp(r *http.Request) string {
	comp := r.URL.Query().Get("comp")
	switch {
	case r.Method == http.MethodPut && comp != "":
		return comp // block, blocklist, metadata
	case r.Method == http.MethodPut:
		return "putblob"
	}
	return r.Method
}

// serverBusy answers like Azure under load: 503 ServerBusy.
func serverBusy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-error-code", "ServerBusy")
	testenv.Fail(w, r, http.StatusServiceUnavailable, "application/xml",
		`<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>`)
}

// faultDriver describes azblobstore on the package's Azurite to the shared fault suite.
func faultDriver(t *testing.T) drivertest.Driver {
	srv := server(t)
	return drivertest.Driver{
		Endpoint: srv.Endpoint,
		Op:       azOp,
		NewStore: func(t testing.TB, endpoint string, o drivertest.Options) drivertest.Store {
			s := newStore(t, srv, endpoint, azblobstore.Options{Prefix: o.Prefix, PartSize: o.PartSize,
				Concurrency: o.Concurrency, Retry: o.Retry, AttemptTimeout: o.AttemptTimeout})
			return drivertest.Store{
				Store: s,
				Stats: func() drivertest.Stats {
					st := s.Stats()
					return drivertest.Stats{Puts: st.Puts, Retries: st.Retries, BytesUp: st.BytesUp, BytesDown: st.BytesDown}
				},
				List: func(t testing.TB, ctx context.Context) []string { return listBlobs(t, ctx, srv, s) },
			}
		},
		Busy:     serverBusy,
		BusyName: "ServerBusy",
		Forbidden: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-ms-error-code", "AuthorizationFailure")
			testenv.Fail(w, r, http.StatusForbidden, "application/xml",
				`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>no</Message></Error>`)
		},
		PartSize: 1 << 20,
		PartOp:   "block",
		RetryCases: []drivertest.RetryCase{
			{Name: "AnyRequestPutBlob", Op: "", Size: 1 << 20, WantParts: 0},
			{Name: "Properties", Op: "HEAD", Size: 1 << 20, WantParts: 0},
			{Name: "PutBlob", Op: "putblob", Size: 1 << 20, WantParts: 0},
			{Name: "PutBlock", Op: "block", Size: 3 << 20, WantParts: 3},
			{Name: "PutBlockList", Op: "blocklist", Size: 3 << 20, WantParts: 3},
		},
		ReadOp: http.MethodGet,
		// Azure checks the x-ms-content-crc64 the store sends with each Put Blob and Put
		// Block (Crc64Mismatch), and so does Azurite; staged blocks are invisible until a
		// block list commits them.
		CorruptCases: []drivertest.CorruptCase{
			{Name: "PutBlob", Op: "putblob", Size: 600 << 10, At: 1},
			{Name: "PutBlock", Op: "block", Size: 3 << 20, At: 2},
		},
		Rejected: func(err error) bool { return bloberror.HasCode(err, bloberror.CRC64Mismatch) },
		CommitOp: "blocklist",
	}
}

func TestRetryOn5xx(t *testing.T) { drivertest.RetryOn5xx(t, faultDriver(t)) }

func TestGetSurvivesFaults(t *testing.T) { drivertest.GetSurvivesFaults(t, faultDriver(t)) }

func TestRetriesSpentArePermanent(t *testing.T) {
	drivertest.RetriesSpentArePermanent(t, faultDriver(t))
}

func TestCorruptedBodyRejected(t *testing.T) { drivertest.CorruptedBodyRejected(t, faultDriver(t)) }
