package payloadsvc

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestOneRetryLayerEndToEnd counts the HTTP requests that reach the service when the codec
// runs over a Client: against a service that always fails, each Encode and Decode makes
// exactly the Client's MaxAttempts requests (the codec adds no retries of its own, and
// the error is permanent and names the store); against one that fails N times and then
// works, exactly N+1.
func TestOneRetryLayerEndToEnd(t *testing.T) {
	const maxAttempts = 4
	data, _ := randomBlob(t, 1<<20)
	in := []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}}

	for _, tc := range []struct {
		name     string
		failures int64 // -1: always
		status   int
		want     int64
	}{
		{"always 503", -1, http.StatusServiceUnavailable, maxAttempts},
		{"always 500", -1, http.StatusInternalServerError, maxAttempts},
		{"503 twice then works", 2, http.StatusServiceUnavailable, 3},
		{"500 three times then works", 3, http.StatusInternalServerError, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The healthy service holds the blob, so a Decode that gets through succeeds.
			store := memstore.New()
			svc := startService(t, store, Options{})
			seed, err := codec.New(store, codec.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			enc, err := seed.Encode(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range []string{"encode", "decode"} {
				var requests, failed atomic.Int64
				front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					requests.Add(1)
					if tc.failures < 0 || failed.Add(1) <= tc.failures {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tc.status)
						_, _ = io.WriteString(w, `{"error":"injected"}`)
						return
					}
					svc.h.ServeHTTP(w, r)
				}))
				t.Cleanup(front.Close)
				cl, err := blobclient.New(front.URL, blobclient.Options{Logger: slog.New(slog.DiscardHandler),
					Retry: driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxAttempts: maxAttempts}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(cl.CloseIdleConnections)
				c, err := codec.New(cl, codec.Options{CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				if op == "encode" {
					_, err = c.Encode(in)
				} else {
					_, err = c.Decode(enc)
				}
				if got := requests.Load(); got != tc.want {
					t.Errorf("%s: %d requests reached the service, want %d", op, got, tc.want)
				}
				if tc.failures >= 0 {
					if err != nil {
						t.Errorf("%s after %d failures: %v", op, tc.failures, err)
					}
					continue
				}
				var se *codec.StoreError
				var st *blobclient.StatusError
				switch {
				case !errors.As(err, &se) || !errors.As(err, &st) || st.StatusCode != tc.status:
					t.Errorf("%s: %v, want a *codec.StoreError wrapping the service's %d", op, err, tc.status)
				case !driver.IsPermanent(err):
					t.Errorf("%s: %v is not permanent: a layer above could retry it again", op, err)
				}
			}
		})
	}
}
