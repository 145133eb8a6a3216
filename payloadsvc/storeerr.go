package payloadsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// storeFailures answers failed store and codec operations for the routes that use the
// store (blob API, codec server, downloads).
type storeFailures struct {
	log       *slog.Logger
	counter   *prometheus.CounterVec // payloadsvc_store_errors_total: op, kind
	storeName string                 // the store's String(): a path or bucket, scrubbed from client errors
	maxBlob   int64                  // the codec's MaxSize, named in 413s
}

// storeString is how the codec names store in its errors.
func storeString(store driver.Store) string {
	if st, ok := store.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", store)
}

// fail answers a failed store or codec operation with a short, generic message and
// counts and logs it with the details, unless the caller went away, which is nobody's
// error. Only a bad reference is described to the client, since it describes the
// client's own request; the log gets the category alone for it.
func (f *storeFailures) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		writeError(w, r, statusClientClosed, "%s: request cancelled", op)
		return
	}
	status := storeStatus(err)
	switch status {
	case http.StatusBadRequest:
		writeErrorLogged(w, r, status, op+": "+f.scrub(err.Error()), op+": invalid reference or key")
		return
	case http.StatusRequestEntityTooLarge:
		writeError(w, r, status, "%s: a payload is over the %d-byte blob limit (--max-blob-bytes)", op, f.maxBlob)
		return
	case http.StatusNotFound:
		writeError(w, r, status, "%s: blob not found", op)
		return
	case http.StatusBadGateway:
		if errors.Is(err, codec.ErrRefused) {
			f.counter.WithLabelValues(op, "refused").Inc()
			writeError(w, r, status, "%s: the foreign service refused the read (see the service log)", op)
			break
		}
		f.counter.WithLabelValues(op, "corrupt").Inc()
		writeError(w, r, status, "%s: corrupt blob: the stored bytes do not match the reference", op)
	case http.StatusInternalServerError:
		writeError(w, r, status, "%s: internal error", op)
	default:
		f.counter.WithLabelValues(op, "unavailable").Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, r, status, "%s: store unavailable", op)
	}
	logDetail(r, err)
	f.log.Error("payloadsvc: store operation failed", "op", op, "request_id", requestID(r), "error", err)
}

// keyPattern matches a blob key in a message.
var keyPattern = regexp.MustCompile(`v1/\S*sha256/[0-9a-f]{64}`)

// scrub removes what a client must not learn from a codec error that otherwise
// describes its own request: the store's name (a path, a bucket) and blob keys.
func (f *storeFailures) scrub(msg string) string {
	if f.storeName != "" {
		msg = strings.ReplaceAll(msg, f.storeName, "store")
	}
	return keyPattern.ReplaceAllString(msg, "<key>")
}
