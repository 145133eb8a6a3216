package payloadsvc

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAllowHostsLayer: a Host that is not allowed is answered 421 and logged, before the
// layers below see the request; /healthz is answered whatever the Host.
func TestAllowHostsLayer(t *testing.T) {
	allow, err := newHostAllowlist(Options{AllowedHosts: []string{"svc.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, host string
		want             int
	}{
		{"listed", "/codec/default/decode", "svc.internal:8080", statusNext},
		{"loopback", "/v1/namespaces/default/blobs/sha256/00", "localhost", statusNext},
		{"IP literal", "/readyz", "10.0.0.7:8080", statusNext},
		{"foreign", "/codec/default/decode", "rebind.evil.example", 421},
		{"foreign on an unknown path", "/nope", "rebind.evil.example", 421},
		{"foreign on /healthz", "/healthz", "rebind.evil.example", statusNext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := testLog()
			next := &nextHandler{}
			r := httptest.NewRequest("POST", tc.path, nil)
			r.Host = tc.host
			rec, _ := serveLayer(allowHosts(allow, log)(next), r)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.want, rec.Body)
			}
			if tc.want != 421 {
				return
			}
			if next.got != nil || !strings.Contains(rec.Body.String(), "--allowed-host") || !strings.Contains(rec.Body.String(), "req-1") {
				t.Errorf("refusal reached next (%v) or its body %s does not name the flag and request id", next.got != nil, rec.Body)
			}
			if !strings.Contains(logs.String(), "Host that is not allowed") || !strings.Contains(logs.String(), "rebind.evil.example") {
				t.Errorf("log has no warning naming the host:\n%s", logs)
			}
		})
	}
}
