package blobclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

const testToken = "open-test-token-0123456789"

// serveUnder runs a payload service needing testToken under the path /svc.
func serveUnder(t *testing.T) string {
	auth, err := payloadsvc.NewTokenAuthorizer(map[string][]string{testToken: {"default"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{Authorizer: auth})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/svc", h))
	t.Cleanup(srv.Close)
	return srv.URL + "/svc"
}

func tokenFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t *testing.T, rawURL string) (*blobclient.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := blobclient.Open(context.Background(), u)
	c, _ := s.(*blobclient.Client)
	return c, err
}

// TestOpen: the URL's path prefix is kept, its token_file is read and sent, and a
// blob goes through the real service and back.
func TestOpen(t *testing.T) {
	base := serveUnder(t)
	ctx := context.Background()
	c, err := open(t, base+"?token_file="+url.QueryEscape(tokenFile(t, testToken+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "payloadsvc("+base+")" {
		t.Fatalf("client %s, want the base URL without its query", got)
	}
	b, key := storetest.RandomBlob(t, "default", 1<<20)
	if _, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b)

	anon, err := open(t, base)
	if err != nil {
		t.Fatal(err)
	}
	var se *blobclient.StatusError
	if _, err := anon.Touch(ctx, key); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token_file: %v, want 401", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
		invalid         bool // the URL itself is wrong: storeurl.ErrInvalidURL
	}{
		{"token in the URL", "https://payloads/?token=x", `unknown parameter "token" (known: token_file)`, true},
		{"empty token file", "https://payloads/?token_file=" + url.QueryEscape(tokenFile(t, " \n")), "is empty", true},
		{"no host", "https:///prefix", "is not http(s)://host", true},
		{"fragment", "https://payloads/#x", "is not http(s)://host", true},
		{"missing token file", "https://payloads/?token_file=/nonexistent/token", "token_file: open /nonexistent/token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open(t, tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, storeurl.ErrInvalidURL) != tc.invalid {
				t.Fatalf("Open(%s): err = %v, want one naming %q (ErrInvalidURL: %v)", tc.url, err, tc.want, tc.invalid)
			}
		})
	}
}
