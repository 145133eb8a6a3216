package payloadsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// errorBody is every error response: {"error": "..."}, naming the problem.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers status with a JSON error body (no body for HEAD).
func writeError(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if info := requestInfoFrom(r.Context()); info != nil {
		info.errMsg = msg
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	body, _ := json.Marshal(errorBody{Error: msg})
	body = append(body, '\n')
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// storeStatus maps a store or codec error to the status that tells the caller what
// went wrong: a bad request, a missing blob, a blob that failed verification (the
// store gave bad bytes: 502), or a store that cannot be reached (503).
func storeStatus(err error) int {
	switch {
	case errors.Is(err, codec.ErrInvalidReference), errors.Is(err, codec.ErrInvalidKey):
		return http.StatusBadRequest
	case errors.Is(err, codec.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, codec.ErrCorrupt):
		return http.StatusBadGateway
	default:
		return http.StatusServiceUnavailable
	}
}

// storeFailure answers a failed store or codec operation and counts and logs it, unless
// the caller went away, which is nobody's error.
func (h *handler) storeFailure(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		writeError(w, r, statusClientClosed, "%s: request cancelled", op)
		return
	}
	status := storeStatus(err)
	var what string
	switch status {
	case http.StatusBadRequest:
		what = "bad request"
	case http.StatusNotFound:
		what = "not found"
	case http.StatusBadGateway:
		what = "corrupt blob"
		h.metrics.storeErrors.WithLabelValues(op, "corrupt").Inc()
	default:
		what = "store unavailable"
		h.metrics.storeErrors.WithLabelValues(op, "unavailable").Inc()
	}
	if status >= 500 {
		h.log.Error("payloadsvc: store operation failed", "op", op, "request_id", requestID(r), "error", err)
	}
	writeError(w, r, status, "%s: %s: %v", op, what, err)
}

// statusClientClosed is what the access log records for a request whose client left
// (nginx's 499); the client never sees it.
const statusClientClosed = 499
