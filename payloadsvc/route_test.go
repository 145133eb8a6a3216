package payloadsvc

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestParseRoute: paths map to routes, namespaces and digests; segments are unescaped
// one by one, so an escaped slash stays in the namespace (and fails validation later).
func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		path string
		want route
	}{
		{"/healthz", route{name: routeHealthz}},
		{"/readyz", route{name: routeReadyz}},
		{"/metrics", route{name: routeMetrics}},
		{"/v1/namespaces/orders/blobs/sha256/ab", route{name: routeBlob, namespace: "orders", hasNS: true, algorithm: "sha256", digest: "ab"}},
		{"/v1/namespaces/orders/blobs/blake3/ab", route{name: routeBlob, namespace: "orders", hasNS: true, algorithm: "blake3", digest: "ab"}},
		{"/v1/namespaces/a%2Fb/blobs/sha256/ab", route{name: routeBlob, namespace: "a/b", hasNS: true, algorithm: "sha256", digest: "ab"}},
		{"/v1/namespaces/orders/blobs/md5/ab", route{name: routeUnknown}},
		{"/v1/namespaces/orders/blobs/BLAKE3/ab", route{name: routeUnknown}},
		{"/v1/download/orders/sha256/ab", route{name: routeDownload, namespace: "orders", hasNS: true, algorithm: "sha256", digest: "ab"}},
		{"/v1/download/orders/blake3/ab", route{name: routeDownload, namespace: "orders", hasNS: true, algorithm: "blake3", digest: "ab"}},
		{"/v1/download/orders/md5/ab", route{name: routeUnknown}},
		{"/codec/encode", route{name: routeEncode}},
		{"/codec//decode", route{name: routeDecode}},
		{"/codec/orders/decode", route{name: routeDecode, namespace: "orders", hasNS: true}},
		{"/codec/orders/x", route{name: routeUnknown}},
		{"healthz", route{name: routeUnknown}},
		{"/", route{name: routeUnknown}},
	} {
		if got := parseRoute(tc.path); got != tc.want {
			t.Errorf("parseRoute(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

// TestRouterLayer: an unknown path is 404, a method the route does not take 405 with
// Allow; the rest reach the route's handler. parseRoutes notes the route for them.
func TestRouterLayer(t *testing.T) {
	next := &nextHandler{}
	rs := router{routeBlob: next, routeDecode: next}
	h := stack(rs, parseRoutes(0))
	for _, tc := range []struct {
		method, path string
		want         int
		wantAllow    string
	}{
		{"PUT", "/v1/namespaces/default/blobs/sha256/00", statusNext, ""},
		{"POST", "/codec/decode", statusNext, ""},
		{"DELETE", "/v1/namespaces/default/blobs/sha256/00", 405, "GET, HEAD, PUT"},
		{"GET", "/codec/decode", 405, "POST"},
		{"GET", "/nope", 404, ""},
		{"GET", "/metrics", 404, ""}, // a route this router was not given (NoMetricsRoute)
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		rec := httptest.NewRecorder()
		info := &requestInfo{id: "req-1"}
		h.ServeHTTP(rec, withRequestInfo(r, info))
		if rec.Code != tc.want || rec.Header().Get("Allow") != tc.wantAllow {
			t.Errorf("%s %s: %d, Allow %q; want %d, %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.want, tc.wantAllow)
		}
		if info.route != parseRoute(tc.path).name {
			t.Errorf("%s %s: route noted %q", tc.method, tc.path, info.route)
		}
		if tc.want != statusNext && !strings.Contains(rec.Body.String(), tc.path) {
			t.Errorf("%s %s: error %s does not name the path", tc.method, tc.path, rec.Body)
		}
	}
}
