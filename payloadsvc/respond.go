package payloadsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

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

// statusClientClosed is what the access log records for a request whose client left
// (nginx's 499); the client never sees it.
const statusClientClosed = 499

// truncate shortens s to n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
