package payloadsvc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// requestInfo collects what the access log and metrics report about one request; the
// handlers fill in route and namespace as they learn them.
type requestInfo struct {
	id        string
	route     string
	namespace string
	errMsg    string

	subject, authMethod string // whom the Authorizer admitted, for the audit line
	payloads            int
	payloadBytes        int64
}

type ctxKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(ctxKey{}).(*requestInfo)
	return info
}

// requestID returns the request's id, for logs.
func requestID(r *http.Request) string {
	if info := requestInfoFrom(r.Context()); info != nil {
		return info.id
	}
	return ""
}

// observe runs next with a request id (also sent as X-Request-Id), then writes one
// access-log line and records the metrics. It logs the path without the query (download
// links carry their signature there) and never headers or bodies, so neither tokens nor
// payloads reach the log.
func (h *handler) observe(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	start := time.Now()
	info := &requestInfo{id: uuid.NewString(), route: routeUnknown}
	w.Header().Set("X-Request-Id", info.id)
	// A copy: the server's own *Request must keep its body, or it cannot tell that a
	// 100-continue was never sent and would wait for a body the client holds back.
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
	var in *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		in = &countingBody{ReadCloser: r.Body}
		r.Body = in
	}
	rec := &recorder{ResponseWriter: w, in: in, closeEarly: r.ProtoMajor == 1}
	h.metrics.inFlight.Inc()
	defer func() {
		h.metrics.inFlight.Dec()
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		var bytesIn int64
		if in != nil {
			bytesIn = in.n.Load()
		}
		elapsed := time.Since(start)
		h.metrics.observe(info.route, r.Method, status, bytesIn, rec.bytes, elapsed)
		attrs := []slog.Attr{
			slog.String("request_id", info.id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", info.route),
			slog.Int("status", status),
			slog.Int64("bytes_in", bytesIn),
			slog.Int64("bytes_out", rec.bytes),
			slog.Duration("duration", elapsed),
			slog.String("remote", r.RemoteAddr),
		}
		if info.namespace != "" {
			attrs = append(attrs, slog.String("namespace", info.namespace))
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			attrs = append(attrs, slog.String("origin", origin))
		}
		if info.errMsg != "" {
			attrs = append(attrs, slog.String("error", info.errMsg))
		}
		level := slog.LevelInfo
		if (info.route == routeHealthz || info.route == routeReadyz || info.route == routeMetrics) && status < 400 {
			level = slog.LevelDebug // probes and scrapes would drown the log
		}
		if info.route == routeBlob && r.Method == http.MethodHead && status == http.StatusNotFound {
			level = slog.LevelDebug // the dedupe probe: a missing blob is the normal answer
		}
		h.log.LogAttrs(r.Context(), level, "payloadsvc: request", attrs...)
		h.auditRequest(r, info, status)
	}()
	defer h.recoverPanic(rec, r)
	next(rec, r)
}

// recoverPanic turns a panic in a handler into a 500 (or, once the answer has begun,
// an aborted connection) and logs it with its stack, instead of net/http's bare close.
func (h *handler) recoverPanic(w *recorder, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
		panic(p)
	}
	h.log.Error("payloadsvc: panic serving a request", "request_id", requestID(r), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if w.status != 0 {
		panic(http.ErrAbortHandler)
	}
	writeError(w, r, http.StatusInternalServerError, "internal error")
}

// recorder notes the status and counts the bytes written. It forwards Flush and
// ReadFrom (sendfile for file-backed stores) and unwraps for http.ResponseController.
//
// An answer sent before the request body was read to its end closes an HTTP/1
// connection: otherwise net/http would first wait for up to 256 KiB of body that a
// slow (or hostile) client may never send, and only then answer.
type recorder struct {
	http.ResponseWriter
	status     int
	bytes      int64
	in         *countingBody
	closeEarly bool
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		if w.closeEarly && w.in != nil && !w.in.eof.Load() {
			w.Header().Set("Connection", "close")
			// And no draining of the rest after the answer either: net/http would read up
			// to 256 KiB of it before closing, holding the connection until a deadline.
			_ = http.NewResponseController(w.ResponseWriter).SetReadDeadline(time.Now())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
	}
	w.bytes += n
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts the request bytes read. The count is atomic because the server
// may still be reading (draining) while the access log is written.
type countingBody struct {
	io.ReadCloser
	n   atomic.Int64
	eof atomic.Bool // read to its end
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// statusText is a status code as a metrics label.
func statusText(code int) string { return strconv.Itoa(code) }
