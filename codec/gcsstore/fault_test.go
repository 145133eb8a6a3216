package gcsstore_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// gcsOp names a JSON API request.
func gcsOp(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		return "upload"
	case strings.HasSuffix(r.URL.Path, "/compose"):
		return "compose"
	case r.Method == http.MethodGet && r.URL.Query().Get("alt") == "media":
		return "read"
	}
	return r.Method
}

func unavailable(w http.ResponseWriter, r *http.Request) {
	testenv.Fail(w, r, http.StatusServiceUnavailable, "application/json",
		`{"error":{"code":503,"message":"try again"}}`)
}

// faultDriver describes gcsstore on the package's fake-gcs-server to the shared fault
// suite.
func faultDriver(t *testing.T) drivertest.Driver {
	srv := server(t)
	return drivertest.Driver{
		Endpoint: srv.Endpoint,
		Op:       gcsOp,
		NewStore: func(t testing.TB, endpoint string, o drivertest.Options) drivertest.Store {
			s := newStore(t, srv, endpoint, gcsstore.Options{Prefix: o.Prefix, PartSize: o.PartSize,
				Concurrency: o.Concurrency, Retry: o.Retry, AttemptTimeout: o.AttemptTimeout})
			return drivertest.Store{
				Store: s,
				Stats: func() drivertest.Stats {
					st := s.Stats()
					return drivertest.Stats{Puts: st.Puts, Retries: st.Retries, BytesUp: st.BytesUp, BytesDown: st.BytesDown}
				},
				List: func(t testing.TB, ctx context.Context) []string { return listObjects(t, ctx, srv, s) },
			}
		},
		Busy:     unavailable,
		BusyName: "503",
		Forbidden: func(w http.ResponseWriter, r *http.Request) {
			testenv.Fail(w, r, http.StatusForbidden, "application/json", `{"error":{"code":403,"message":"no"}}`)
		},
		PartSize: 1 << 20,
		PartOp:   "upload", // single uploads too
		RetryCases: []drivertest.RetryCase{
			{Name: "AnyRequestSingleUpload", Op: "", Size: 1 << 20, WantParts: 1},
			{Name: "Attrs", Op: "GET", Size: 1 << 20, WantParts: 1},
			{Name: "Upload", Op: "upload", Size: 1 << 20, WantParts: 1},
			{Name: "PartUpload", Op: "upload", Size: 3 << 20, WantParts: 3},
			{Name: "Compose", Op: "compose", Size: 3 << 20, WantParts: 3},
		},
		ReadOp:               "read",
		ClientResumesCutBody: true,
		// GCS checks the CRC32C the store sends with each upload (the only checksum it
		// sends, see TestUploadsCarryCRC32COnly): a 400. fake-gcs-server checks it too.
		CorruptCases: []drivertest.CorruptCase{
			{Name: "SingleUpload", Op: "upload", Size: 600 << 10, At: 1},
			{Name: "Part", Op: "upload", Size: 3 << 20, At: 2},
		},
		Rejected: func(err error) bool {
			var apiErr *googleapi.Error
			return errors.As(err, &apiErr) && apiErr.Code == http.StatusBadRequest
		},
	}
}

func TestRetryOn5xx(t *testing.T) { drivertest.RetryOn5xx(t, faultDriver(t)) }

func TestGetSurvivesFaults(t *testing.T) { drivertest.GetSurvivesFaults(t, faultDriver(t)) }

func TestRetriesSpentArePermanent(t *testing.T) {
	drivertest.RetriesSpentArePermanent(t, faultDriver(t))
}

func TestCorruptedBodyRejected(t *testing.T) { drivertest.CorruptedBodyRejected(t, faultDriver(t)) }
