package payloadsvc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// readyTimeout bounds the store probe of /readyz.
const readyTimeout = 5 * time.Second

// readyProbeKey is a key that normally does not exist: /readyz Touches it, and "not
// found" proves the store answers.
var readyProbeKey, _ = codec.BlobKey("payloadsvc-readyz", strings.Repeat("0", 64))

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when the store answers a Touch (found or not found), 503 otherwise.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if _, err := h.store.Touch(ctx, readyProbeKey); err != nil && !errors.Is(err, codec.ErrNotFound) {
		h.log.Warn("payloadsvc: not ready: store unreachable", "request_id", requestID(r), "error", err)
		writeError(w, r, http.StatusServiceUnavailable, "store unreachable: %v", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ready\n"))
}
