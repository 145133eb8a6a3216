package payloadsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

const (
	testOrigin   = "http://ui.example:8233"
	tokenDefault = "tok-default-0123456789"
	tokenAll     = "tok-all-0123456789"
)

// brokenStore fails every operation, as an unreachable store does.
type brokenStore struct{}

var errStoreDown = errors.New("dial tcp 10.0.0.1:9000: connect: connection refused")

func (brokenStore) Put(context.Context, string, io.Reader, int64) (bool, error) {
	return false, errStoreDown
}
func (brokenStore) Get(context.Context, string) (io.ReadCloser, error) { return nil, errStoreDown }
func (brokenStore) Touch(context.Context, string) (driver.Info, error) {
	return driver.Info{}, errStoreDown
}

// refTo returns a reference payload for a blob of stored bytes b (no compression).
func refTo(t testing.TB, b []byte) *commonpb.Payload {
	t.Helper()
	p, err := codec.Reference{V: 1, SHA256: sha256Hex(b), Size: int64(len(b)), RawSize: int64(len(b)), Compression: "none", Encoding: "json/plain"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refToV2 is refTo for a reference v2: the blob's BLAKE3 address.
func refToV2(t testing.TB, b []byte) *commonpb.Payload {
	t.Helper()
	p, err := codec.Reference{V: 2, BLAKE3: blake3Hex(b), Size: int64(len(b)), RawSize: int64(len(b)), Compression: "none", Encoding: "json/plain"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func payloadsJSON(t testing.TB, ps ...*commonpb.Payload) []byte {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInput is the table of requests the service must refuse, each with the exact
// status and a message that names the problem.
func TestBadInput(t *testing.T) {
	auth, err := NewTokenAuthorizer(map[string][]string{tokenDefault: {"default"}, tokenAll: {"*"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, nil, Options{
		Authorizer:        auth,
		CORSOrigins:       []string{testOrigin},
		MaxBlobBytes:      1 << 20,
		MaxCodecBodyBytes: 256 << 10,
	})
	down := startService(t, brokenStore{}, Options{})
	ctx := testCtx(t, time.Minute)

	// A blob whose stored bytes do not match their address: corrupt.
	good, goodHex := randomBlob(t, 1000)
	corruptKey, _ := driver.Key("default", driver.SHA256, goodHex)
	corruptV2, _ := driver.Key("default", driver.BLAKE3, blake3Hex(good))
	for _, key := range []string{corruptKey, corruptV2} {
		if _, err := svc.store.Put(ctx, key, bytes.NewReader(bytes.Repeat([]byte{'x'}, 1000)), 1000); err != nil {
			t.Fatal(err)
		}
	}
	missing, missingHex := randomBlob(t, 1000)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	withHdr := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for kk, vv := range m {
			out[kk] = vv
		}
		return out
	}
	mismatch := []byte("these bytes do not hash to the path")
	goodB3, missingB3 := blake3Hex(good), blake3Hex(missing)

	tests := []struct {
		name       string
		svc        *service
		method     string
		path       string
		body       []byte
		hdr        map[string]string
		wantStatus int
		wantMsg    []string // substrings of the error message
	}{
		{"malformed JSON", svc, "POST", "/codec/default/decode", []byte(`{"payloads": [`), bearer(tokenDefault), 400, []string{"malformed request body", "Payloads"}},
		{"payloads is not a list", svc, "POST", "/codec/default/decode", []byte(`{"payloads": 7}`), bearer(tokenDefault), 400, []string{"malformed request body"}},
		{"codec body over the cap", svc, "POST", "/codec/default/encode", bytes.Repeat([]byte(" "), 300<<10), bearer(tokenDefault), 413, []string{"over the 262144-byte limit"}},
		{"blob over the cap", svc, "PUT", blobPath("default", missingHex), make([]byte, 1<<20+1), bearer(tokenDefault), 413, []string{"over the 1048576-byte limit"}},
		{"no token", svc, "GET", blobPath("default", goodHex), nil, nil, 401, []string{"missing bearer token"}},
		{"wrong token", svc, "GET", blobPath("default", goodHex), nil, bearer("nope"), 401, []string{"bearer token is not valid"}},
		{"not a bearer token", svc, "GET", blobPath("default", goodHex), nil, map[string]string{"Authorization": "Basic dTpw"}, 401, []string{"missing bearer token"}},
		{"token for another namespace", svc, "GET", blobPath("other", goodHex), nil, bearer(tokenDefault), 403, []string{`namespace "other"`}},
		{"token for another namespace, codec", svc, "POST", "/codec/decode", payloadsJSON(t), withHdr(bearer(tokenDefault), "X-Namespace", "other"), 403, []string{`namespace "other"`}},
		{"namespace with an escaped slash", svc, "GET", blobPath("a%2Fb", goodHex), nil, bearer(tokenAll), 400, []string{"namespace", `"a/b"`, `'/'`}},
		{"namespace with a slash", svc, "GET", blobPath("a/b", goodHex), nil, bearer(tokenAll), 400, []string{"namespace", `"a/b"`}},
		{"namespace ..", svc, "GET", blobPath("..", goodHex), nil, bearer(tokenAll), 400, []string{"namespace", `".."`}},
		{"namespace empty", svc, "GET", blobPath("", goodHex), nil, bearer(tokenAll), 400, []string{"namespace is empty"}},
		{"codec namespace with a slash", svc, "POST", "/codec/a/b/decode", payloadsJSON(t), bearer(tokenAll), 400, []string{"namespace", `"a/b"`}},
		{"codec namespace ..", svc, "POST", "/codec/decode", payloadsJSON(t), withHdr(bearer(tokenAll), "X-Namespace", ".."), 400, []string{"namespace", `".."`}},
		{"codec without a namespace", svc, "POST", "/codec//decode", payloadsJSON(t), bearer(tokenAll), 400, []string{"X-Namespace"}},
		{"digest mismatch", svc, "PUT", blobPath("default", missingHex), mismatch, bearer(tokenDefault), 400, []string{"digest mismatch: body sha256 is " + sha256Hex(mismatch) + ", want " + missingHex + "; nothing stored"}},
		{"after a digest mismatch nothing is stored", svc, "GET", blobPath("default", missingHex), nil, bearer(tokenDefault), 404, []string{"not found"}},
		{"digest not hex", svc, "GET", blobPath("default", "xyz"), nil, bearer(tokenDefault), 400, []string{"sha256", `"xyz"`}},
		{"digest uppercase", svc, "GET", blobPath("default", strings.ToUpper(goodHex)), nil, bearer(tokenDefault), 400, []string{"sha256"}},
		{"blake3 no token", svc, "GET", blake3Path("default", goodB3), nil, nil, 401, []string{"missing bearer token"}},
		{"blake3 token for another namespace", svc, "PUT", blake3Path("other", goodB3), good, bearer(tokenDefault), 403, []string{`namespace "other"`}},
		{"blake3 namespace ..", svc, "GET", blake3Path("..", goodB3), nil, bearer(tokenAll), 400, []string{"namespace", `".."`}},
		{"blake3 over the cap", svc, "PUT", blake3Path("default", missingB3), make([]byte, 1<<20+1), bearer(tokenDefault), 413, []string{"over the 1048576-byte limit"}},
		{"blake3 digest mismatch", svc, "PUT", blake3Path("default", missingB3), mismatch, bearer(tokenDefault), 400,
			[]string{"digest mismatch: body blake3 is " + blake3Hex(mismatch) + ", want " + missingB3 + "; nothing stored"}},
		{"after a blake3 digest mismatch nothing is stored", svc, "GET", blake3Path("default", missingB3), nil, bearer(tokenDefault), 404, []string{"not found"}},
		{"blake3 digest uppercase", svc, "GET", blake3Path("default", strings.ToUpper(goodB3)), nil, bearer(tokenDefault), 400, []string{"blake3"}},
		{"blake3 put with the store down", down, "PUT", blake3Path("default", goodB3), good, nil, 503, []string{"store unavailable"}},
		{"unknown path", svc, "GET", "/v2/things", nil, bearer(tokenAll), 404, []string{"no such endpoint", "/v2/things"}},
		{"unknown codec path", svc, "POST", "/codec/default/transcode", nil, bearer(tokenAll), 404, []string{"no such endpoint"}},
		{"wrong method on a blob", svc, "DELETE", blobPath("default", goodHex), nil, bearer(tokenDefault), 405, []string{"method DELETE not allowed", "GET, HEAD, PUT"}},
		{"wrong method on the codec", svc, "GET", "/codec/default/decode", nil, bearer(tokenDefault), 405, []string{"method GET not allowed", "POST"}},
		{"missing blob", svc, "GET", blobPath("default", missingHex), nil, bearer(tokenDefault), 404, []string{"blob not found"}},
		{"decode a missing blob", svc, "POST", "/codec/default/decode", payloadsJSON(t, refTo(t, missing)), bearer(tokenDefault), 404, []string{"blob not found"}},
		{"decode a corrupt blob", svc, "POST", "/codec/default/decode", payloadsJSON(t, refTo(t, good)), bearer(tokenDefault), 502, []string{"corrupt"}},
		{"decode a malformed reference", svc, "POST", "/codec/default/decode", payloadsJSON(t, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: []byte(`{"v":1,"sha256":"nope"}`)}), bearer(tokenDefault), 400, []string{"invalid reference", `"sha256"`}},
		{"decode a missing v2 blob", svc, "POST", "/codec/default/decode", payloadsJSON(t, refToV2(t, missing)), bearer(tokenDefault), 404, []string{"blob not found"}},
		{"decode a corrupt v2 blob", svc, "POST", "/codec/default/decode", payloadsJSON(t, refToV2(t, good)), bearer(tokenDefault), 502, []string{"corrupt"}},
		{"decode a malformed v2 reference", svc, "POST", "/codec/default/decode", payloadsJSON(t, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: []byte(`{"v":2,"blake3":"nope"}`)}), bearer(tokenDefault), 400, []string{"invalid reference", `"blake3"`}},
		{"decode a v2 reference naming sha256", svc, "POST", "/codec/default/decode", payloadsJSON(t, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: []byte(`{"v":2,"sha256":"` + goodHex + `","size":1000,"rawSize":1000,"compression":"none"}`)}), bearer(tokenDefault), 400, []string{"invalid reference"}},
		{"decode with the store down", down, "POST", "/codec/default/decode", payloadsJSON(t, refTo(t, good)), nil, 503, []string{"store unavailable"}},
		{"encode with the store down", down, "POST", "/codec/default/encode", payloadsJSON(t, &commonpb.Payload{Data: make([]byte, 300<<10)}), nil, 503, []string{"store unavailable"}},
		{"put with the store down", down, "PUT", blobPath("default", goodHex), good, nil, 503, []string{"store unavailable"}},
		{"not ready with the store down", down, "GET", "/readyz", nil, nil, 503, []string{"store unreachable"}},
		{"preflight from another origin", svc, "OPTIONS", "/codec/decode", nil, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, 403, []string{`origin "http://evil.example" is not allowed`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := tc.svc.do(t, tc.method, tc.path, tc.body, tc.hdr)
			if status != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body %s", tc.method, tc.path, status, tc.wantStatus, short(body))
			}
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error == "" {
				t.Fatalf("body %q is not {\"error\": \"...\"}: %v", short(body), err)
			}
			for _, want := range tc.wantMsg {
				if !strings.Contains(eb.Error, want) {
					t.Errorf("message %q does not name the problem: missing %q", eb.Error, want)
				}
			}
			if eb.RequestID == "" || eb.RequestID != hdr.Get("X-Request-Id") {
				t.Errorf("error body request id %q, header %q: want the same, not empty", eb.RequestID, hdr.Get("X-Request-Id"))
			}
			for _, secret := range []string{"v1/default/sha256/", "v2/default/blake3/", "memstore", "connection refused", "payloadsvc-readyz"} {
				if strings.Contains(eb.Error, secret) {
					t.Errorf("message %q discloses %q", eb.Error, secret)
				}
			}
			if tc.wantStatus == 405 && hdr.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if tc.wantStatus == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.HasPrefix(tc.name, "preflight") {
				for k := range hdr {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("refused preflight has CORS header %s", k)
					}
				}
			}
		})
	}
	if !strings.Contains(svc.logs.String(), `msg="payloadsvc: CORS preflight refused: origin not allowed"`) ||
		!strings.Contains(svc.logs.String(), "origin=http://evil.example") {
		t.Errorf("refused preflight not logged with its origin; log:\n%s", svc.logs.String())
	}
}

// TestBlobChunkedRefused: a blob PUT must say its length (the store needs it, and the
// cap is checked before a byte is read); a chunked body is refused and nothing stored.
func TestBlobChunkedRefused(t *testing.T) {
	svc := startService(t, nil, Options{MaxBlobBytes: 1 << 20})
	b, digest := randomBlob(t, 2<<20)
	req, _ := http.NewRequestWithContext(testCtx(t, time.Minute), "PUT", svc.URL+"/v1/namespaces/default/blobs/sha256/"+digest, io.MultiReader(bytes.NewReader(b)))
	// The answer comes before the body is read and closes the connection; a client that
	// waits for 100 Continue reads it instead of racing it with its own writes.
	req.Header.Set("Expect", "100-continue")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired || !strings.Contains(string(msg), "Content-Length") {
		t.Fatalf("chunked PUT: %d %s, want 411 naming Content-Length", resp.StatusCode, short(msg))
	}
	if status, _, _ := svc.do(t, "HEAD", "/v1/namespaces/default/blobs/sha256/"+digest, nil, nil); status != 404 {
		t.Fatalf("HEAD after a refused PUT: %d, want 404 (nothing stored)", status)
	}
}

// TestCORS: an allowed origin gets exact CORS headers, before auth for preflights; any
// other origin gets none; every answer varies on Origin.
func TestCORS(t *testing.T) {
	auth, _ := NewTokenAuthorizer(map[string][]string{tokenAll: {"*"}})
	svc := startService(t, nil, Options{Authorizer: auth, CORSOrigins: []string{testOrigin + "/"}})

	status, hdr, _ := svc.do(t, "OPTIONS", "/codec/decode", nil, map[string]string{
		"Origin": testOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
	})
	if status != http.StatusNoContent {
		t.Fatalf("preflight from the allowed origin: %d, want 204 (before auth, without a token)", status)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":      testOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     corsAllowMethods,
		"Access-Control-Allow-Headers":     corsAllowHeaders,
		"Access-Control-Max-Age":           corsMaxAge,
	}
	for k, v := range want {
		if got := hdr.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	for _, h := range []string{"Content-Type", "X-Namespace", "Authorization", "Authorization-Extras"} {
		if !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), h) {
			t.Errorf("Allow-Headers lacks %s", h)
		}
	}
	if !contains(hdr.Values("Vary"), "Origin") {
		t.Errorf("preflight Vary = %q, want Origin", hdr.Values("Vary"))
	}

	// The actual request: headers present, auth still applies.
	status, hdr, _ = svc.do(t, "POST", "/codec/decode", payloadsJSON(t), map[string]string{"Origin": testOrigin, "X-Namespace": "default"})
	if status != 401 || hdr.Get("Access-Control-Allow-Origin") != testOrigin {
		t.Fatalf("POST without token from the allowed origin: %d, Allow-Origin %q; want 401 with CORS headers (so the UI can read the error)", status, hdr.Get("Access-Control-Allow-Origin"))
	}
	status, hdr, _ = svc.do(t, "POST", "/codec/decode", payloadsJSON(t), map[string]string{"Origin": "http://other.example", "X-Namespace": "default", "Authorization": "Bearer " + tokenAll})
	if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "" || !contains(hdr.Values("Vary"), "Origin") {
		t.Fatalf("POST from another origin: %d, Allow-Origin %q, Vary %q; want 200, no CORS headers, Vary: Origin", status, hdr.Get("Access-Control-Allow-Origin"), hdr.Values("Vary"))
	}
	if !strings.Contains(svc.logs.String(), "CORS preflight allowed") {
		t.Errorf("allowed preflight not logged")
	}
}

func TestCORSOriginsValidated(t *testing.T) {
	for _, o := range []string{"*", "ui.example", "http://ui.example/path", "ftp://ui.example", "http://user@ui.example"} {
		if _, err := NewHandler(memstore.New(), Options{CORSOrigins: []string{o}}); err == nil || !strings.Contains(err.Error(), "CORS origin") {
			t.Errorf("CORS origin %q: err = %v, want an error naming it", o, err)
		}
	}
}

// TestBlobAPI walks one blob through the API: 201, 200 on repeat, GET and HEAD.
func TestBlobAPI(t *testing.T) {
	svc := startService(t, nil, Options{})
	b, digest := randomBlob(t, 100<<10)
	path := "/v1/namespaces/default/blobs/sha256/" + digest
	if status, _, body := svc.do(t, "PUT", path, b, nil); status != http.StatusCreated {
		t.Fatalf("first PUT: %d %s, want 201", status, short(body))
	}
	if status, _, body := svc.do(t, "PUT", path, b, nil); status != http.StatusOK {
		t.Fatalf("second PUT: %d %s, want 200", status, short(body))
	}
	status, hdr, body := svc.do(t, "GET", path+"?ignored=1", nil, nil)
	if status != 200 || !bytes.Equal(body, b) {
		t.Fatalf("GET: %d, %d bytes; want 200 and the blob", status, len(body))
	}
	if hdr.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	status, hdr, _ = svc.do(t, "HEAD", path, nil, nil)
	if status != 200 || hdr.Get("Content-Length") != "102400" || hdr.Get("Last-Modified") == "" {
		t.Fatalf("HEAD: %d, Content-Length %q, Last-Modified %q", status, hdr.Get("Content-Length"), hdr.Get("Last-Modified"))
	}
	if status, _, _ := svc.do(t, "HEAD", "/v1/namespaces/other/blobs/sha256/"+digest, nil, nil); status != 404 {
		t.Fatalf("HEAD in another namespace: %d, want 404 (namespaces are separate)", status)
	}
	empty := sha256Hex(nil)
	if status, _, _ := svc.do(t, "PUT", "/v1/namespaces/default/blobs/sha256/"+empty, []byte{}, nil); status != 201 {
		t.Fatalf("PUT of the empty blob: %d, want 201", status)
	}
}

func TestHealth(t *testing.T) {
	svc := startService(t, nil, Options{})
	for _, p := range []string{"/healthz", "/readyz"} {
		if status, _, body := svc.do(t, "GET", p, nil, nil); status != 200 {
			t.Errorf("GET %s: %d %s, want 200", p, status, body)
		}
	}
}
