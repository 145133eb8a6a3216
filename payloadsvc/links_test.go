package payloadsvc

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestLinkAuthLayer: a download link passes when its signature covers the namespace,
// hash, digest, reference, expiry and subject, and it has not expired; the reference it carries
// goes down to the download, and the subject to the audit line. A refusal is 403 with its
// reason counted.
func TestLinkAuthLayer(t *testing.T) {
	c, err := codec.New(memstore.New(), codec.Options{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	ref := refTo(t, []byte(`"the data"`))
	loc, _, err := c.Locate(ref)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := &links{key: []byte("0123456789abcdef"), ttl: time.Minute, now: func() time.Time { return now }}
	good, err := l.path("default", ref, loc, now.Add(time.Minute), "alice")
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := l.path("default", ref, loc, now.Add(-time.Second), "alice")
	badRef := resign(t, l, good, func(q url.Values) { q.Set("r", "bm90IGEgcGF5bG9hZA") })
	for _, tc := range []struct {
		name, path string
		want       int
		wantReason string
	}{
		{"valid", good, statusNext, ""},
		{"other subject", strings.Replace(good, "sub=alice", "sub=mallory", 1), 403, ReasonBadSignature},
		{"other namespace", strings.Replace(good, "/download/default/", "/download/other/", 1), 403, ReasonBadSignature},
		{"other hash of the digest", strings.Replace(good, "/sha256/", "/blake3/", 1), 403, ReasonBadSignature},
		{"expired", expired, 403, ReasonExpired},
		{"signed junk", badRef, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := testLog()
			m := testMetrics(t)
			next := &nextHandler{}
			layer := scopeNamespace(&linkAuth{next: next, links: l, refusals: refusals{log: log, counter: m.authRefusals}})
			rec, info := serveLayer(layer, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.want {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			if tc.wantReason != "" {
				if n := testutil.ToFloat64(m.authRefusals.WithLabelValues(tc.wantReason)); n != 1 {
					t.Errorf("refusals{reason=%q} = %v, want 1", tc.wantReason, n)
				}
			}
			if tc.want != statusNext {
				return
			}
			if got := linkRefFrom(next.got.Context()); !proto.Equal(got, ref) || info.subject != "alice" || info.authMethod != "link" {
				t.Errorf("handed down %v for %q by %q, want the reference for alice by link", got, info.subject, info.authMethod)
			}
		})
	}
}

// resign changes a link's query with edit and signs it again, as only the key holder can.
func resign(t *testing.T, l *links, link string, edit func(url.Values)) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	edit(q)
	parts := strings.Split(u.Path, "/") // /v1/download/{ns}/{hash}/{digest}
	q.Set("sig", l.sign(parts[3], parts[4], parts[5], q))
	u.RawQuery = q.Encode()
	return u.String()
}
