package payloadsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// errorBody is every error response: a short message naming the problem, and the
// request id under which the log holds the details.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId,omitempty"`
}

// writeError answers status with a JSON error body (no body for HEAD). The message
// reaches the client and the access log, so it must never quote a request body, nor
// name a filesystem path, bucket or key.
func writeError(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	writeErrorLogged(w, r, status, msg, msg)
}

// writeErrorLogged is writeError with a different message for the log: public may
// quote the client's own request back to it; logMsg names the problem without it.
func writeErrorLogged(w http.ResponseWriter, r *http.Request, status int, public, logMsg string) {
	id := ""
	if info := requestInfoFrom(r.Context()); info != nil {
		id = info.id
		if info.errMsg == "" {
			info.errMsg = logMsg
		}
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	body, _ := json.Marshal(errorBody{Error: public, RequestID: id})
	body = append(body, '\n')
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// logDetail puts an internal error into the request's access-log line (it wins over
// the client's message there). Only for errors that quote no request body.
func logDetail(r *http.Request, err error) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.errMsg = err.Error()
	}
}

// storeStatus maps a store or codec error to the status that tells the caller what
// went wrong: a bad request, a missing blob, a blob that failed verification (the
// store gave bad bytes: 502), a bug (500), or a store that cannot be reached (503).
func storeStatus(err error) int {
	switch {
	case errors.Is(err, codec.ErrInvalidReference), errors.Is(err, driver.ErrInvalidKey):
		return http.StatusBadRequest
	case errors.Is(err, driver.ErrCorrupt), errors.Is(err, codec.ErrRefused):
		// Before ErrTooLarge: a stored blob over the payload caps is corrupt.
		return http.StatusBadGateway
	case errors.Is(err, codec.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, driver.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, codec.ErrPanic):
		return http.StatusInternalServerError
	default:
		return http.StatusServiceUnavailable
	}
}

// storeFailure answers a failed store or codec operation with a short, generic message
// and counts and logs it with the details, unless the caller went away, which is
// nobody's error. Only a bad reference is described to the client, since it describes
// the client's own request; the log gets the category alone for it.
func (h *handler) storeFailure(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		writeError(w, r, statusClientClosed, "%s: request cancelled", op)
		return
	}
	status := storeStatus(err)
	switch status {
	case http.StatusBadRequest:
		writeErrorLogged(w, r, status, op+": "+h.scrub(err.Error()), op+": invalid reference or key")
		return
	case http.StatusRequestEntityTooLarge:
		writeError(w, r, status, "%s: a payload is over the %d-byte blob limit (--max-blob-bytes)", op, h.opts.Codec.MaxSize)
		return
	case http.StatusNotFound:
		writeError(w, r, status, "%s: blob not found", op)
		return
	case http.StatusBadGateway:
		if errors.Is(err, codec.ErrRefused) {
			h.metrics.storeErrors.WithLabelValues(op, "refused").Inc()
			writeError(w, r, status, "%s: the foreign service refused the read (see the service log)", op)
			break
		}
		h.metrics.storeErrors.WithLabelValues(op, "corrupt").Inc()
		writeError(w, r, status, "%s: corrupt blob: the stored bytes do not match the reference", op)
	case http.StatusInternalServerError:
		writeError(w, r, status, "%s: internal error", op)
	default:
		h.metrics.storeErrors.WithLabelValues(op, "unavailable").Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, r, status, "%s: store unavailable", op)
	}
	logDetail(r, err)
	h.log.Error("payloadsvc: store operation failed", "op", op, "request_id", requestID(r), "error", err)
}

// keyPattern matches a blob key in a message.
var keyPattern = regexp.MustCompile(`v1/\S*sha256/[0-9a-f]{64}`)

// scrub removes what a client must not learn from a codec error that otherwise
// describes its own request: the store's name (a path, a bucket) and blob keys.
func (h *handler) scrub(msg string) string {
	if h.storeName != "" {
		msg = strings.ReplaceAll(msg, h.storeName, "store")
	}
	return keyPattern.ReplaceAllString(msg, "<key>")
}

// statusClientClosed is what the access log records for a request whose client left
// (nginx's 499); the client never sees it.
const statusClientClosed = 499
