package uitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// codecErrorBanner is what Temporal UI 2.42 shows when its codec endpoint fails.
const codecErrorBanner = "Codec Server could not connect"

// previewBytes: the 3 MiB input is decoded whole, the 40 MiB one is previewed.
const previewBytes = 8 << 20

// pageTimeout bounds the wait for one page; the UI shows a payload in seconds, but the
// machine is shared and `make test` runs this under the race detector.
const pageTimeout = 60 * time.Second

// TestTemporalUI reads offloaded payloads the way a person does: in the Temporal UI.
func TestTemporalUI(t *testing.T) {
	e := newEnv(t)

	t.Run("shows offloaded input decoded", func(t *testing.T) {
		logs := e.serve(t, payloadsvc.Options{CORSOrigins: []string{e.ui}})
		doc, data := newDocument(t, 3<<20, 64)
		historyURL, _ := e.run(t, doc)

		got := e.browser.open(t, page{
			URL: historyURL, Want: []string{doc.Marker}, StopOn: []string{codecErrorBanner},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show the input's marker %q %s", doc.Marker, got.describe())
		}
		if strings.Contains(got.Text, "longhaulPreview") {
			t.Errorf("the %d-byte input was previewed, want it whole (preview over %d bytes)", len(data), previewBytes)
		}
		if err := isPNG(got.Screenshot); err != nil {
			t.Errorf("screenshot %s: %v", got.Screenshot, err)
		}
		// The marker can only have come through the service: the browser's decode call,
		// with the UI's origin, answered with the whole input.
		whole := false
		for _, rec := range logs.records(map[string]any{"route": "decode", "status": 200, "namespace": "default", "origin": e.ui}) {
			n, _ := rec["bytes_out"].(float64)
			whole = whole || n >= float64(len(data))
		}
		if !whole {
			t.Errorf("payloadsvc logged no decode of the %d-byte input from origin %s:\n%s", len(data), e.ui, logs)
		}
	})

	t.Run("shows codec error when origin not allowed", func(t *testing.T) {
		// An allowlist, just not with the UI on it.
		logs := e.serve(t, payloadsvc.Options{CORSOrigins: []string{"http://127.0.0.1:1"}})
		doc, _ := newDocument(t, 3<<20, 64)
		historyURL, ref := e.run(t, doc)

		// The reference's digest on the page means the Input card is rendered, undecoded:
		// the marker's absence then says something.
		got := e.browser.open(t, page{
			URL: historyURL, Want: []string{codecErrorBanner, ref.BLAKE3 + ref.SHA256}, StopOn: []string{doc.Marker},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show %q with the undecoded reference %s", codecErrorBanner, got.describe())
		}
		if strings.Contains(got.Text, doc.Marker) {
			t.Errorf("the page shows the marker %q although the codec server refused the UI", doc.Marker)
		}
		preflight := map[string]any{"level": "WARN", "origin": e.ui, "path": "/codec/decode", "request_method": "POST"}
		if !logs.has(preflight) {
			t.Errorf("payloadsvc did not log the refused preflight %v:\n%s", preflight, logs)
		}
		if !logs.has(map[string]any{"method": "OPTIONS", "route": "preflight", "status": 403, "origin": e.ui}) {
			t.Errorf("payloadsvc's access log has no 403 preflight from %s:\n%s", e.ui, logs)
		}
		if logs.has(map[string]any{"route": "decode"}) {
			t.Errorf("the browser sent a decode request despite the refused preflight:\n%s", logs)
		}
	})

	t.Run("shows preview of 40 MiB input with signed download", func(t *testing.T) {
		e.serve(t, payloadsvc.Options{CORSOrigins: []string{e.ui}})
		doc, data := newDocument(t, 40<<20, 1024)
		historyURL, ref := e.run(t, doc)
		sum := sha256.Sum256(data)

		// The preview as the UI renders it (pretty JSON): size, digest (the reference's:
		// v2's blake3 by default, v1's sha256) and the first KiB (the document is ASCII,
		// so the head is exactly that).
		alg, digest := "sha256", ref.SHA256
		if ref.V == 2 {
			alg, digest = "blake3", ref.BLAKE3
		}
		head, err := json.Marshal(string(data[:1024]))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`"longhaulPreview"`,
			`"size": ` + strconv.Itoa(len(data)),
			`"` + alg + `": "` + digest + `"`,
			`"head": ` + string(head) + ",",
			`"download": "` + e.svc + "/v1/download/default/" + alg + "/" + digest + "?",
		}
		got := e.browser.open(t, page{
			URL: historyURL, Want: want, StopOn: []string{codecErrorBanner},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show the preview %q %s", want, got.describe())
		}
		link := downloadLinkRE.FindString(got.Text)
		if link == "" {
			t.Fatalf("no download link on the page %s", got.describe())
		}

		// The page's link as a service whose links last a second makes it: the signing
		// key is shared, so once it has expired only its expiry is wrong with it.
		short := e.previewLink(t, ref, time.Second)
		if a, b := stripQuery(short, "exp", "sig"), stripQuery(link, "exp", "sig"); a != b {
			t.Fatalf("short-lived link %s differs from the page's %s beyond exp and sig", a, b)
		}
		exp, err := strconv.ParseInt(queryParam(t, short, "exp"), 10, 64)
		if err != nil {
			t.Fatalf("short-lived link %s: exp: %v", short, err)
		}
		time.Sleep(time.Until(time.Unix(exp+1, 0))) // a link is valid through its exp second

		for _, tc := range []struct {
			name     string
			link     string
			status   int
			wantBody string // for refusals, part of the error
		}{
			// The service checks the signature first: "expired" also says it held.
			{"as shown", link, http.StatusOK, ""},
			{"signature changed", changeSig(t, link), http.StatusForbidden, "signature"},
			{"expired", short, http.StatusForbidden, "expired"},
		} {
			status, body := fetch(t, http.MethodGet, tc.link)
			if status != tc.status {
				t.Errorf("%s: GET %s: status %d, want %d (%.200s)", tc.name, tc.link, status, tc.status, body)
				continue
			}
			if tc.status != http.StatusOK {
				if !bytes.Contains(body, []byte(tc.wantBody)) {
					t.Errorf("%s: refusal %q does not mention %q", tc.name, body, tc.wantBody)
				}
				continue
			}
			if got := sha256.Sum256(body); len(body) != len(data) || got != sum {
				t.Errorf("%s: downloaded %d bytes, sha256 %x; want the %d-byte input, sha256 %x",
					tc.name, len(body), got, len(data), sum)
			}
		}
	})
}
