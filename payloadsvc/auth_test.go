package payloadsvc

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadTokensFile(t *testing.T) {
	path := writeFile(t, `# workers
alpha-token   orders,billing   # team A
beta-token *

   # indented comment
gamma-token reports
`)
	a, err := LoadTokensFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		auth string
		ns   string
		want error
	}{
		{"Bearer alpha-token", "orders", nil},
		{"bearer alpha-token", "billing", nil},
		{"Bearer alpha-token", "reports", ErrForbidden},
		{"Bearer beta-token", "anything", nil},
		{"Bearer gamma-token", "reports", nil},
		{"Bearer gamma-token", "orders", ErrForbidden},
		{"Bearer alpha-toke", "orders", ErrUnauthenticated},
		{"Bearer alpha-token-longer", "orders", ErrUnauthenticated},
		{"Bearer #", "orders", ErrUnauthenticated},
		{"Bearer ", "orders", ErrUnauthenticated},
		{"alpha-token", "orders", ErrUnauthenticated},
		{"", "orders", ErrUnauthenticated},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		err := a.Authorize(r, tc.ns)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Authorize(%q, %q) = %v, want %v", tc.auth, tc.ns, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "token-") {
			t.Errorf("error %q repeats the token", err)
		}
	}
}

func TestLoadTokensFileErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"token without namespaces", "ok-token *\nlonely-token\n", []string{"line 2", "got 1 fields"}},
		{"three fields", "t1 ns1 ns2\n", []string{"line 1", "got 3 fields"}},
		{"bad namespace", "# c\nt1 good,../etc\n", []string{"line 2", `"../etc"`}},
		{"empty namespace", "t1 a,,b\n", []string{"line 1", "namespace is empty"}},
		{"duplicate token", "t1 a\nt2 b\nt1 c\n", []string{"line 3", "listed twice"}},
		{"no tokens", "# nothing here\n\n", []string{"has no tokens"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.content)
			_, err := LoadTokensFile(path)
			if err == nil {
				t.Fatal("LoadTokensFile succeeded, want an error")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := LoadTokensFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
}

// TestAuthorizerErrorsMap: a custom Authorizer's errors become 401, 403 or 503.
func TestAuthorizerErrorsMap(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("jwt expired: %w", ErrUnauthenticated), 401},
		{fmt.Errorf("no role for namespace: %w", ErrForbidden), 403},
		{errors.New("jwks endpoint unreachable"), 503},
	} {
		svc := startService(t, nil, Options{Authorizer: AuthorizerFunc(func(*http.Request, string) error { return tc.err })})
		status, _, body := svc.do(t, "HEAD", "/v1/namespaces/default/blobs/sha256/"+strings.Repeat("a", 64), nil, nil)
		if status != tc.want {
			t.Errorf("authorizer error %q: status %d %s, want %d", tc.err, status, short(body), tc.want)
		}
		status, _, body = svc.do(t, "GET", "/v1/namespaces/default/blobs/sha256/"+strings.Repeat("a", 64), nil, nil)
		// 401 and 403 describe the caller's credentials; a failing authorizer's own
		// error is an internal detail, for the log only.
		if status != tc.want || strings.Contains(string(body), tc.err.Error()) != (tc.want != 503) {
			t.Errorf("authorizer error %q: GET %d %s, want %d with the message only for 401 and 403", tc.err, status, short(body), tc.want)
		}
		if tc.want == 503 && !strings.Contains(svc.logs.String(), tc.err.Error()) {
			t.Errorf("authorizer error %q is not in the log", tc.err)
		}
	}
}

// TestAccessLog: one line per request with id and namespace, and never a token or a
// payload byte.
func TestAccessLog(t *testing.T) {
	auth, _ := NewTokenAuthorizer(map[string][]string{"sekrit-token-42": {"default"}})
	svc := startService(t, nil, Options{Authorizer: auth})
	p := jsonPayload(t, "PAYLOAD-MARKER-"+strings.Repeat("z", 400<<10))
	hdr := map[string]string{"Authorization": "Bearer sekrit-token-42"}
	enc := svc.postPayloads(t, "/codec/default/encode", hdr, p)
	svc.postPayloads(t, "/codec/default/decode?token=sekrit-token-42", hdr, enc...)
	svc.do(t, "GET", "/v1/namespaces/default/blobs/sha256/"+strings.Repeat("b", 64), nil, map[string]string{"Authorization": "Bearer sekrit-token-42"})

	logs := svc.logs.String()
	for _, secret := range []string{"sekrit", "PAYLOAD-MARKER", "zzzz"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	lines := strings.Count(logs, `msg="payloadsvc: request"`)
	if lines != 3 {
		t.Errorf("%d access-log lines, want 3:\n%s", lines, logs)
	}
	for _, want := range []string{"request_id=", "namespace=default", "route=encode", "route=decode", "route=blob", "status=404", "path=/codec/default/decode "} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestMalformedBodyNotLogged: the parser's message quotes the body; the log must not.
func TestMalformedBodyNotLogged(t *testing.T) {
	svc := startService(t, nil, Options{})
	status, _, body := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[{"data":"SECRET-DATA-NOT-BASE64!"}]}`), nil)
	if status != 400 {
		t.Fatalf("status %d %s, want 400", status, short(body))
	}
	if logs := svc.logs.String(); strings.Contains(logs, "SECRET") || !strings.Contains(logs, "malformed request body") {
		t.Fatalf("log leaks the body or lacks the reason:\n%s", logs)
	}
}
