package payloadsvc

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// statusWriter is a ResponseWriter that tells whether the answer has begun; the access
// log's recorder is one.
type statusWriter interface {
	http.ResponseWriter
	Status() int // 0 before WriteHeader
}

// recoverPanics turns a panic below it into a 500 (or, once the answer has begun, an
// aborted connection) and logs it with its stack, instead of net/http's bare close. It
// sits right under the access log, which then records the 500.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw, ok := w.(statusWriter)
			if !ok {
				sw = &statusRecorder{ResponseWriter: w}
			}
			defer recoverPanic(log, sw, r)
			next.ServeHTTP(sw, r)
		})
	}
}

func recoverPanic(log *slog.Logger, w statusWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
		panic(p)
	}
	log.Error("payloadsvc: panic serving a request", "request_id", requestID(r), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if w.Status() != 0 {
		panic(http.ErrAbortHandler)
	}
	writeError(w, r, http.StatusInternalServerError, "internal error")
}

// statusRecorder notes the status for recoverPanics when nothing above it does.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Status() int                 { return w.status }
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
