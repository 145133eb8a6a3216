package payloadsvc

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetrics: /metrics exposes requests by route and status, bytes both ways,
// latencies and store errors, in the Prometheus text format.
func TestMetrics(t *testing.T) {
	svc := startService(t, nil, Options{})
	b, digest := randomBlob(t, 5000)
	path := "/v1/namespaces/default/blobs/sha256/" + digest
	svc.do(t, "PUT", path, b, nil)
	svc.do(t, "GET", path, nil, nil)
	svc.do(t, "GET", "/nope", nil, nil)
	svc.do(t, "BREW", path, nil, nil)
	down := startService(t, brokenStore{}, Options{})
	down.do(t, "GET", path, nil, nil)

	status, hdr, body := svc.do(t, "GET", "/metrics", nil, nil)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", status, hdr.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		`payloadsvc_requests_total{code="201",method="PUT",route="blob"} 1`,
		`payloadsvc_requests_total{code="200",method="GET",route="blob"} 1`,
		`payloadsvc_requests_total{code="404",method="GET",route="unknown"} 1`,
		`payloadsvc_requests_total{code="405",method="other",route="blob"} 1`,
		`payloadsvc_request_bytes_total{route="blob"} 5000`,
		`payloadsvc_request_duration_seconds_bucket{method="PUT",route="blob",le="+Inf"} 1`,
		`payloadsvc_requests_in_flight 1`, // this request
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	m := regexp.MustCompile(`payloadsvc_response_bytes_total\{route="blob"\} (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Error("/metrics lacks payloadsvc_response_bytes_total for blob")
	} else if n, _ := strconv.Atoi(m[1]); n < 5000 || n > 6000 {
		t.Errorf("response bytes for blob = %d, want the 5000-byte body plus an error body", n)
	}
	_, _, body = down.do(t, "GET", "/metrics", nil, nil)
	if want := `payloadsvc_store_errors_total{kind="unavailable",op="get"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics of a failing store lacks %s", want)
	}
}

// TestMetricsSharedRegistry: two handlers on one registry share the series.
func TestMetricsSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := startService(t, nil, Options{Registry: reg})
	b := startService(t, nil, Options{Registry: reg})
	a.do(t, "GET", "/healthz", nil, nil)
	b.do(t, "GET", "/healthz", nil, nil)
	_, _, body := a.do(t, "GET", "/metrics", nil, nil)
	if want := `payloadsvc_requests_total{code="200",method="GET",route="healthz"} 2`; !strings.Contains(string(body), want) {
		t.Errorf("shared registry lacks %s", want)
	}
}
