package payloadsvc

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// accessLog is the outermost layer: it gives each request an id (also sent as
// X-Request-Id) and its requestInfo, then writes one access-log line, the audit line
// and the metrics. It logs the path without the query (download links carry their
// signature there) and never headers or bodies, so neither tokens nor payloads reach
// the log.
type accessLog struct {
	next    http.Handler
	log     *slog.Logger
	metrics *metrics
}

func logRequests(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return &accessLog{next: next, log: log, metrics: m} }
}

func (a *accessLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{id: uuid.NewString(), route: routeUnknown}
	w.Header().Set("X-Request-Id", info.id)
	// A copy: the server's own *Request must keep its body, or it cannot tell that a
	// 100-continue was never sent and would wait for a body the client holds back.
	r = withRequestInfo(r, info)
	var in *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		in = &countingBody{ReadCloser: r.Body}
		r.Body = in
	}
	rec := &recorder{ResponseWriter: w, in: in, closeEarly: r.ProtoMajor == 1}
	a.metrics.inFlight.Inc()
	defer func() {
		a.metrics.inFlight.Dec()
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		var bytesIn int64
		if in != nil {
			bytesIn = in.n.Load()
		}
		elapsed := time.Since(start)
		a.metrics.observe(info.route, r.Method, status, bytesIn, rec.bytes, elapsed)
		a.write(r, info, status, bytesIn, rec.bytes, elapsed)
		auditRequest(a.log, r, info, status)
	}()
	a.next.ServeHTTP(rec, r)
}

// write writes the access-log line of a request.
func (a *accessLog) write(r *http.Request, info *requestInfo, status int, bytesIn, bytesOut int64, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", info.route),
		slog.Int("status", status),
		slog.Int64("bytes_in", bytesIn),
		slog.Int64("bytes_out", bytesOut),
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
	a.log.LogAttrs(r.Context(), level, "payloadsvc: request", attrs...)
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

// Status is the status sent, 0 before the header is written (see recoverPanics).
func (w *recorder) Status() int { return w.status }

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
