package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestTeamTokens: a worker of team dba offloads through the service with its token; the
// codec endpoint decodes for dba's namespace, refuses dba for another namespace (403) and
// refuses forged or missing tokens (401).
func TestTeamTokens(t *testing.T) {
	auth := &TeamAuthorizer{secret: []byte("0123456789abcdef-test"), teams: teamFlag{"dba": {"migrations"}, "web": {"default"}}}
	h, err := newHandler(memstore.New(), auth, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A worker of team dba: its store is the service.
	store, err := blobclient.New(srv.URL, blobclient.Options{Token: auth.Token("dba")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(store, codec.Options{Namespace: "migrations"})
	if err != nil {
		t.Fatal(err)
	}
	marker := "table-users-snapshot-7f3a"
	big := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data: []byte(`"` + marker + strings.Repeat(" row", 200_000) + `"`)}
	enc, err := c.Encode([]*commonpb.Payload{big})
	if err != nil {
		t.Fatalf("offload through the service with a team token: %v", err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, ns, token string
		status          int
	}{
		{"own namespace", "migrations", auth.Token("dba"), http.StatusOK},
		{"other team's namespace", "default", auth.Token("dba"), http.StatusForbidden},
		{"other team", "migrations", auth.Token("web"), http.StatusForbidden},
		{"forged token", "migrations", "dba." + strings.Repeat("0", 64), http.StatusUnauthorized},
		{"no token", "migrations", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/codec/"+tc.ns+"/decode", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, out)
			}
			if tc.status == http.StatusOK {
				var ps commonpb.Payloads
				if err := protojson.Unmarshal(out, &ps); err != nil || len(ps.Payloads) != 1 || !bytes.Contains(ps.Payloads[0].Data, []byte(marker)) {
					t.Fatalf("decoded response does not hold the marker (err %v)", err)
				}
			}
		})
	}
}

func TestTeamFlag(t *testing.T) {
	f := teamFlag{}
	for _, bad := range []string{"dba", "=ns", "dba=", "d.ba=ns", "dba=a/b"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) succeeded, want an error", bad)
		}
	}
	if err := f.Set("dba=migrations,backfills"); err != nil || len(f["dba"]) != 2 {
		t.Fatalf("Set: %v, %v", err, f)
	}
}
