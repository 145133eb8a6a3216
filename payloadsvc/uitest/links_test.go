package uitest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// previewLink asks a payload service whose links last ttl for ref's preview, as the UI
// does, and returns the download link in it.
func (e *env) previewLink(t *testing.T, ref codec.Reference, ttl time.Duration) string {
	t.Helper()
	h := e.newHandler(t, payloadsvc.Options{DownloadTTL: ttl, PublicURL: e.svc}, &logBuffer{})
	p, err := ref.Payload()
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, e.svc+"/codec/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	req.Header.Set(payloadsvc.PreviewHeader, "1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode for a preview: %d %s", rec.Code, rec.Body)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var prev struct {
		Preview payloadsvc.Preview `json:"longhaulPreview"`
	}
	if len(out.Payloads) != 1 || json.Unmarshal(out.Payloads[0].GetData(), &prev) != nil || prev.Preview.Download == "" {
		t.Fatalf("decode answered %v, want one preview", &out)
	}
	return prev.Preview.Download
}

// fetch requests link and returns the status and the body.
func fetch(t *testing.T, method, link string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, link, err)
	}
	return resp.StatusCode, body
}

func queryParam(t *testing.T, link, name string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

// stripQuery returns link without the named query parameters, the rest in a canonical order.
func stripQuery(link string, names ...string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	for _, n := range names {
		q.Del(n)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// changeSig returns link with one hex digit of its signature changed.
func changeSig(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil || len(sig) == 0 {
		t.Fatalf("link %s has no hex signature", link)
	}
	sig[0] ^= 0x01 // the second hex digit
	q.Set("sig", hex.EncodeToString(sig))
	u.RawQuery = q.Encode()
	return u.String()
}

// logBuffer collects a payload service's JSON log lines.
