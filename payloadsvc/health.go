package payloadsvc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// readyTimeout bounds the store probe of /readyz.
const readyTimeout = 5 * time.Second

// readyProbeKey is a key that normally does not exist: /readyz Touches it, and "not
// found" proves the store answers.
var readyProbeKey, _ = driver.Key("payloadsvc-readyz", driver.SHA256, strings.Repeat("0", 64))

// health answers /healthz (the process is up) and /readyz (the store answers).
type health struct {
	store    driver.Store
	interval time.Duration // Options.ReadyInterval
	log      *slog.Logger
	ready    readyCache
}

func (h *health) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyCache holds the last store probe, so /readyz, which anyone may call, costs the
// store at most one request per Options.ReadyInterval however often it is asked.
type readyCache struct {
	mu   sync.Mutex // held during a probe: concurrent callers wait for its answer
	at   time.Time
	err  error
	done bool
}

// probe returns the store's readiness, probing it when the last answer is older than
// interval.
func (h *health) probe() error {
	c := &h.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done && time.Since(c.at) < h.interval {
		return c.err
	}
	// Not the request's context: the answer is shared by the callers that follow.
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	_, err := h.store.Touch(ctx, readyProbeKey)
	if errors.Is(err, driver.ErrNotFound) {
		err = nil
	}
	if err != nil && c.err == nil {
		h.log.Warn("payloadsvc: not ready: store unreachable", "error", err)
	}
	c.at, c.err, c.done = time.Now(), err, true
	return err
}

// readyz answers 200 when the store answers a Touch (found or not found), 503 otherwise.
func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	if err := h.probe(); err != nil {
		logDetail(r, err)
		w.Header().Set("Retry-After", "5")
		writeError(w, r, http.StatusServiceUnavailable, "store unreachable")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ready\n"))
}
