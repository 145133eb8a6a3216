package payloadsvc

import (
	"net/http/httptest"
	"testing"
)

// TestCORSLayer: an allowed origin gets CORS headers on its requests, which go on to the
// layers below; preflights are answered here (204 allowed, 403 not), before any auth,
// and logged as the route "preflight".
func TestCORSLayer(t *testing.T) {
	origins, err := parseOrigins([]string{testOrigin})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, origin, preflight string
		want                            int
		wantAllow                       bool // Access-Control-Allow-Origin is the origin
		wantRoute                       string
	}{
		{"allowed origin", "POST", testOrigin, "", statusNext, true, routeDecode},
		{"other origin", "POST", "http://evil.example", "", statusNext, false, routeDecode},
		{"no origin", "POST", "", "", statusNext, false, routeDecode},
		{"OPTIONS without a method asked", "OPTIONS", testOrigin, "", statusNext, true, routeDecode},
		{"preflight allowed", "OPTIONS", testOrigin, "POST", 204, true, routePreflight},
		{"preflight refused", "OPTIONS", "http://evil.example", "POST", 403, false, routePreflight},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := testLog()
			r := httptest.NewRequest(tc.method, "/codec/default/decode", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.preflight != "" {
				r.Header.Set("Access-Control-Request-Method", tc.preflight)
			}
			rec, info := serveLayer(allowOrigins(origins, log)(&nextHandler{}), r)
			hdr := rec.Header()
			if rec.Code != tc.want || (hdr.Get("Access-Control-Allow-Origin") == tc.origin && tc.origin != "") != tc.wantAllow {
				t.Fatalf("status %d, Access-Control-Allow-Origin %q; want %d, allowed %v",
					rec.Code, hdr.Get("Access-Control-Allow-Origin"), tc.want, tc.wantAllow)
			}
			if !contains(hdr.Values("Vary"), "Origin") || info.route != tc.wantRoute {
				t.Errorf("Vary %q, route %q; want Vary: Origin and route %q", hdr.Values("Vary"), info.route, tc.wantRoute)
			}
			if tc.want == 204 && (hdr.Get("Access-Control-Allow-Methods") != corsAllowMethods || hdr.Get("Access-Control-Max-Age") != corsMaxAge) {
				t.Errorf("preflight answer lacks methods or max-age: %v", hdr)
			}
		})
	}
}
