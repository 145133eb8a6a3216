package payloadsvc

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestAdmissionLayer: admission reads and counts a codec request's payloads within the
// caps and the in-flight budget, refuses with 413 what could never fit and with 503 what
// does not fit now, and hands the payloads down, located once for a decode; the budget
// is whole again afterwards.
func TestAdmissionLayer(t *testing.T) {
	c, err := codec.New(memstore.New(), codec.Options{Namespace: "default", MaxSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	small := refTo(t, []byte(`"small"`))
	tooBig, err := codec.Reference{V: 1, SHA256: strings.Repeat("0", 64), Size: 8 << 20, RawSize: 8 << 20,
		Compression: "none", Encoding: "json/plain"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	big := refTo(t, bytes.Repeat([]byte("x"), 3<<20))
	plain := jsonPayload(t, "plain")
	four := payloadsJSON(t, plain, plain, plain, plain)
	huge := payloadsJSON(t, jsonPayload(t, strings.Repeat("y", 3<<20)))
	for _, tc := range []struct {
		name, path string
		body       []byte
		taken      int64 // of the 2 MiB budget, by other requests
		want       int
		wantIn     string // in the error body
		wantRefs   []bool // located[i].ok, for a decode that passes
		wantLocErr bool   // and located[0] is refused (the decode reports it)
	}{
		{"encode", "/codec/default/encode", payloadsJSON(t, plain, plain), 0, statusNext, "", nil, false},
		{"decode", "/codec/default/decode", payloadsJSON(t, small, plain), 0, statusNext, "", []bool{true, false}, false},
		{"decode of a refused reference", "/codec/default/decode", payloadsJSON(t, tooBig), 0, statusNext, "", []bool{true}, true},
		{"too many payloads", "/codec/default/decode", four, 0, 413, "--max-payloads-per-request", nil, false},
		{"body over the cap", "/codec/default/encode", huge, 0, 413, "byte limit", nil, false},
		{"malformed", "/codec/default/decode", []byte(`{"payloads":[{"data":5}]}`), 0, 400, "malformed request body", nil, false},
		{"never fits", "/codec/default/decode", payloadsJSON(t, big), 0, 413, "--max-inflight-bytes", nil, false},
		{"busy", "/codec/default/decode", payloadsJSON(t, small), 2<<20 - 100, 503, "retry later", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBudget(2 << 20)
			next := &nextHandler{}
			layer := &admission{next: next, budget: b, maxBody: 1 << 20, maxPayloads: 3, maxBlob: 1 << 20,
				readTimeout: DefaultBodyReadTimeout, previews: DefaultPreviewBytes}
			other := &reservation{b: b}
			if err := other.add("other", tc.taken); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("POST", tc.path, bytes.NewReader(tc.body))
			rec, info := serveLayer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				layer.ServeHTTP(w, withCodec(r, c))
			}), r)
			other.release()
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.wantIn) {
				t.Fatalf("status %d %s; want %d naming %q", rec.Code, rec.Body, tc.want, tc.wantIn)
			}
			if tc.want == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if tc.want == 400 && strings.Contains(info.errMsg, "data") {
				t.Errorf("the log message %q quotes the body", info.errMsg)
			}
			if n := b.inUse(); n != 0 {
				t.Errorf("%d bytes still reserved", n)
			}
			if tc.want == statusNext {
				adm := admittedFrom(next.got.Context())
				checkAdmitted(t, adm, tc.wantRefs)
				if tc.wantLocErr && !errors.Is(adm.located[0].err, codec.ErrInvalidReference) {
					t.Errorf("located %v, want ErrInvalidReference", adm.located[0].err)
				}
			}
		})
	}
}

// checkAdmitted checks what admission handed down: the payloads, and for a decode
// (refs not nil) whether each was located as a reference.
func checkAdmitted(t *testing.T, adm *admitted, refs []bool) {
	t.Helper()
	if adm == nil || len(adm.payloads) == 0 {
		t.Fatalf("admitted %+v, want the payloads", adm)
	}
	if refs == nil {
		if adm.located != nil {
			t.Errorf("an encode located its payloads: %+v", adm.located)
		}
		return
	}
	if len(adm.located) != len(refs) {
		t.Fatalf("located %d payloads, want %d", len(adm.located), len(refs))
	}
	for i, l := range adm.located {
		if l.ok != refs[i] {
			t.Errorf("payload %d located as a reference: %v, want %v", i, l.ok, refs[i])
		}
	}
}
