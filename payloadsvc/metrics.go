package payloadsvc

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the service's Prometheus series.
type metrics struct {
	requests     *prometheus.CounterVec   // route, method, code
	duration     *prometheus.HistogramVec // route, method
	bytesIn      *prometheus.CounterVec   // route
	bytesOut     *prometheus.CounterVec   // route
	storeErrors  *prometheus.CounterVec   // op, kind
	authRefusals *prometheus.CounterVec   // reason
	inFlight     prometheus.Gauge
	http         http.Handler
}

func newMetrics(reg prometheus.Registerer, gather prometheus.Gatherer, token string) (*metrics, error) {
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg = r
	}
	if gather == nil {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, errors.New("payloadsvc: Options.Registry is not a prometheus.Gatherer: set Options.Gatherer to what /metrics should serve")
		}
		gather = g
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payloadsvc_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payloadsvc_request_duration_seconds",
			Help:    "HTTP request latency by route and method, body transfer included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"route", "method"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payloadsvc_request_bytes_total",
			Help: "Request body bytes read, by route.",
		}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payloadsvc_response_bytes_total",
			Help: "Response body bytes written, by route.",
		}, []string{"route"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payloadsvc_store_errors_total",
			Help: "Failed store operations by operation and kind (corrupt: bytes failed verification; " +
				"unavailable: the store failed or timed out). Missing blobs are not errors.",
		}, []string{"op", "kind"}),
		authRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payloadsvc_auth_refusals_total",
			Help: "Requests the Authorizer refused, by reason class (no_credential, expired, namespace, ...; unavailable: it could not decide).",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payloadsvc_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.bytesIn, m.bytesOut, m.storeErrors, m.authRefusals, m.inFlight} {
		if err := reg.Register(c); err != nil {
			// Two handlers on one registry share the series.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("payloadsvc: register metrics: %w", err)
			}
			if err := adopt(m, c, are.ExistingCollector); err != nil {
				return nil, err
			}
		}
	}
	m.http = MetricsHandler(gather, token)
	return m, nil
}

// adopt replaces a new collector of m with the one already registered.
func adopt(m *metrics, mine, existing prometheus.Collector) error {
	var ok bool
	switch mine {
	case m.requests:
		m.requests, ok = existing.(*prometheus.CounterVec)
	case m.duration:
		m.duration, ok = existing.(*prometheus.HistogramVec)
	case m.bytesIn:
		m.bytesIn, ok = existing.(*prometheus.CounterVec)
	case m.bytesOut:
		m.bytesOut, ok = existing.(*prometheus.CounterVec)
	case m.storeErrors:
		m.storeErrors, ok = existing.(*prometheus.CounterVec)
	case m.authRefusals:
		m.authRefusals, ok = existing.(*prometheus.CounterVec)
	case m.inFlight:
		m.inFlight, ok = existing.(prometheus.Gauge)
	}
	if !ok {
		return fmt.Errorf("payloadsvc: register metrics: a different collector is registered as %T", existing)
	}
	return nil
}

func (m *metrics) observe(route, method string, status int, in, out int64, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodOptions:
	default:
		method = "other" // clients choose methods: keep the label set bounded
	}
	m.requests.WithLabelValues(route, method, statusText(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
	if in > 0 {
		m.bytesIn.WithLabelValues(route).Add(float64(in))
	}
	if out > 0 {
		m.bytesOut.WithLabelValues(route).Add(float64(out))
	}
}

// MetricsHandler serves gather in the Prometheus text format, behind a bearer token
// when token is not empty: what /metrics serves, for a program that serves it on
// another address (Options.NoMetricsRoute).
func MetricsHandler(gather prometheus.Gatherer, token string) http.Handler {
	prom := promhttp.HandlerFor(gather, promhttp.HandlerOpts{})
	if token == "" {
		return prom
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := bearerToken(r)
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="payloadsvc-metrics"`)
			writeError(w, r, http.StatusUnauthorized, "/metrics needs its bearer token")
			return
		}
		prom.ServeHTTP(w, r)
	})
}

// statusText is a status code as a metrics label.
func statusText(code int) string { return strconv.Itoa(code) }
