package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
)

// Issue 20's foreign-read cases against the built binary with --read-datadog: reads
// bounded by the claim, no redirects across origins, previews for browsers, and a
// DataDog 4xx answered 502.

// TestDoorDataDogReadBoundedByClaim (issue 20, "foreign reads are not bounded by the
// claim"): a DataDog reference claiming 16 bytes, for which the service streams 132 MiB
// without a length, is 502 (corrupt) after at most a little more than 16 bytes are read:
// the service's RSS barely moves and the DataDog double could send only what the sockets
// buffer.
func TestDoorDataDogReadBoundedByClaim(t *testing.T) {
	dd := startDD(t)
	p := startBounded(t, 64<<20, nil, "--read-datadog", dd.URL)
	data := []byte("sixteen bytes!!!")
	md := map[string][]byte{"encoding": []byte("binary/plain")}
	key := dataDogKey("default", digestOf(data), md)
	var sent atomic.Int64
	dd.serve(key, func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 1<<20)
		copy(chunk, data)
		for i := 0; i < 132; i++ {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	base := rssBaseline(t, p)
	ref := dataDogRef(t, "v2", key, digestOf(data), int64(len(data)), md)
	status, hdr, out := doorDo(t, p, "POST", "/codec/default/decode", payloadsBody(t, ref), jsonHdr...)
	if status != 502 || hdr.Get("Retry-After") != "" {
		t.Errorf("16-byte claim answered with 132 MiB: %d (Retry-After %q) %s; want 502", status, hdr.Get("Retry-After"), short(out))
	}
	healthzWithin(t, p, 5e9)
	t.Logf("the DataDog double sent %d KiB of the 132 MiB before the reader stopped", sent.Load()>>10)
	if sent.Load() > 16<<20 {
		t.Errorf("the reader took %d MiB for a 16-byte claim; want it to stop after 17 bytes", sent.Load()>>20)
	}
	checkGrowth(t, p, "16-byte DataDog claim answered with 132 MiB", base, 16<<20)
}

// TestDoorDataDogRedirectNotFollowed (issue 20): a DataDog service that answers with a
// redirect to another origin is not followed: 502, and the other origin sees nothing.
func TestDoorDataDogRedirectNotFollowed(t *testing.T) {
	data := []byte(`"served by another origin"`)
	md := map[string][]byte{"encoding": []byte("json/plain")}
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write(data)
	}))
	t.Cleanup(other.Close)
	dd := startDD(t)
	p := start(t, nil, "--read-datadog", dd.URL)
	key := dataDogKey("default", digestOf(data), md)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		dd.serve(key, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/v2/blobs/get?key="+url.QueryEscape(key), code)
		})
		ref := dataDogRef(t, "v2", key, digestOf(data), int64(len(data)), md)
		status, out := post(t, p, "/codec/default/decode", payloadsBody(t, ref))
		if status != 502 || elsewhere.Load() != 0 {
			t.Errorf("DataDog answering %d to another origin: %d %s, the other origin asked %d times; want 502 and none",
				code, status, short(out), elsewhere.Load())
		}
	}
	healthzWithin(t, p, 5e9)
}

// TestDoorDataDogPreviewForBrowsers (issue 20): a browser (Origin allowed by
// --cors-origin) decoding a DataDog reference of a 3 MiB payload gets a preview with a
// download link, as it does for a longhaul reference of the same payload, and the link
// serves the payload.
func TestDoorDataDogPreviewForBrowsers(t *testing.T) {
	const origin = "http://ui.example:8233"
	dd := startDD(t)
	p := start(t, nil, "--read-datadog", dd.URL, "--cors-origin", origin)
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: make([]byte, 3<<20)}
	if _, err := rand.Read(orig.Data); err != nil {
		t.Fatal(err)
	}
	key := dataDogKey("default", digestOf(orig.Data), orig.Metadata)
	dd.serveBytes(key, orig.Data)
	raw := serialize(t, orig)
	for _, tc := range []struct {
		name string
		ref  *commonpb.Payload
	}{
		{"longhaul reference", longhaulRef(t, putBlob(t, p, raw), len(raw), len(raw), "none")},
		{"DataDog v2 reference", dataDogRef(t, "v2", key, digestOf(orig.Data), int64(len(orig.Data)), orig.Metadata)},
		{"DataDog v1 reference", dataDogRef(t, "v1", "", digestOf(orig.Data), int64(len(orig.Data)), orig.Metadata)},
	} {
		if strings.HasPrefix(tc.name, "DataDog v1") {
			dd.serveBytes(digestOf(orig.Data), orig.Data)
		}
		status, out := post(t, p, "/codec/default/decode", payloadsBody(t, tc.ref), "Origin", origin)
		if status != 200 {
			t.Errorf("%s from a browser: %d %s", tc.name, status, short(out))
			continue
		}
		ps := decodedPayloads(t, out)
		var w struct {
			Preview struct {
				Size     int    `json:"size"`
				Download string `json:"download"`
			} `json:"longhaulPreview"`
		}
		if len(out) > 64<<10 || len(ps) != 1 || string(ps[0].GetMetadata()["longhaul-preview"]) != "1" ||
			json.Unmarshal(ps[0].GetData(), &w) != nil || w.Preview.Size != len(orig.Data) {
			t.Errorf("%s from a browser: a %d-byte answer without a preview of the 3 MiB payload; want a preview", tc.name, len(out))
			continue
		}
		u, err := url.Parse(w.Preview.Download)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := request(t, "GET", p.url(u.RequestURI()), nil); status != 200 || !bytes.Equal(body, orig.Data) {
			t.Errorf("%s: the preview's download link: %d, %d bytes; want 200 and the payload", tc.name, status, len(body))
		}
	}
	healthzWithin(t, p, 5e9)
}

// TestDoorDataDog4xxIsBadGateway (issue 20): a DataDog service that refuses the request
// (4xx) is answered 502 at once, never 503 with Retry-After, which would make the UI ask
// again forever.
func TestDoorDataDog4xxIsBadGateway(t *testing.T) {
	dd := startDD(t)
	p := start(t, nil, "--read-datadog", dd.URL)
	data := []byte(`"refused"`)
	md := map[string][]byte{"encoding": []byte("json/plain")}
	key := dataDogKey("default", digestOf(data), md)
	for _, code := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusUnauthorized} {
		dd.serve(key, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte("missing or incorrect Content-Type header"))
		})
		before := dd.requests()
		start := time.Now()
		ref := dataDogRef(t, "v2", key, digestOf(data), int64(len(data)), md)
		status, hdr, out := doorDo(t, p, "POST", "/codec/default/decode", payloadsBody(t, ref), jsonHdr...)
		took := time.Since(start)
		if status != 502 || hdr.Get("Retry-After") != "" {
			t.Errorf("DataDog answering %d: %d (Retry-After %q) %s; want 502 without Retry-After", code, status, hdr.Get("Retry-After"), short(out))
		}
		if n := dd.requests() - before; n != 1 || took > 10*time.Second {
			t.Errorf("DataDog answering %d: asked %d times over %s; want once, at once", code, n, took.Round(time.Millisecond))
		}
	}
	healthzWithin(t, p, 5e9)
}
