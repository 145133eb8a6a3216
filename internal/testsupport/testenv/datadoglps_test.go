package testenv_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestDataDogWriterMatchesTheirVectors: the writer reproduces, byte for byte, the
// reference data that DataDog's own codec tests pin (their codec/testdata, namespace
// "test"), v2 with and without a key prefix and v1.
func TestDataDogWriterMatchesTheirVectors(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	md := func(kv ...string) map[string][]byte {
		m := map[string][]byte{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = []byte(kv[i+1])
		}
		return m
	}
	fooBaz := md("foo", "bar", "baz", "qux")
	const d52 = "sha256:62c5b63b2e7bccbddd931c896593b25fbab2ea1c12b0e1fb34ca083536c2c066"
	const d59 = "sha256:041ae008aa23e071b5f04ae1b75847c7b135269239833501f0929b212c95935c"
	cases := []struct {
		name, version string
		p             *commonpb.Payload
		want          string
	}{
		{"v2 no prefix", "v2", &commonpb.Payload{Metadata: fooBaz, Data: []byte("This message is also longer than the 32 bytes limit!")},
			`{"metadata":{"baz":"cXV4","foo":"YmFy"},"size":52,"digest":"` + d52 + `","key":"/blobs/test/common/` + d52 +
				`/sha256:49c18013bca3da7d14edff8e1c2703d60ff89df6a11e0c02b673d0c935c90bfb"}`},
		{"v2 with prefix", "v2", &commonpb.Payload{Metadata: md("foo", "bar", "baz", "qux", "remote-codec/key-prefix", "1234"),
			Data: []byte("this is a longer message blah blah blah blah blah blah blah")},
			`{"metadata":{"baz":"cXV4","foo":"YmFy","remote-codec/key-prefix":"MTIzNA=="},"size":59,"digest":"` + d59 +
				`","key":"/blobs/test/custom/1234/` + d59 + `/sha256:b70fd38ed8eb9135fb4f1e6d296cf4a61ae8fd310fd07c4bd788d20fe0a86e95"}`},
		{"v1", "v1", &commonpb.Payload{Metadata: fooBaz, Data: []byte("this is a longer message blah blah blah blah blah blah blah")},
			`{"metadata":{"baz":"cXV4","foo":"YmFy"},"size":59,"digest":"` + d59 + `","key":"blobs/` + d59 + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := svc.Ref(tc.version, "test", tc.p)
			if string(ref.Data) != tc.want {
				t.Fatalf("reference data\n got: %s\nwant: %s", ref.Data, tc.want)
			}
			md := ref.Metadata
			if len(md) != 2 || string(md["encoding"]) != "json/plain" || string(md["temporal.io/remote-codec"]) != tc.version {
				t.Fatalf("reference metadata %q", ref.Metadata)
			}
		})
	}
}

// TestDataDogServiceRefuses: the double refuses what DataDog's handlers refuse, with
// their statuses, and serves a well-formed GET.
func TestDataDogServiceRefuses(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	p := testenv.DataDogPayload("json", 4<<10, 1)
	var ref struct{ Key, Digest string }
	mustJSON(t, svc.Ref("v2", "default", p).Data, &ref)
	svc.Ref("v1", "default", p) // v1 keys the blob by digest alone
	v2 := "/v2/blobs/get?key=" + strings.ReplaceAll(ref.Key, ":", "%3A")
	v1 := "/v1/blobs/get?digest=" + ref.Digest
	ok := map[string]string{"Content-Type": "application/octet-stream", "X-Payload-Expected-Content-Length": "4096"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name, method, path string
		header             map[string]string
		want               int
	}{
		{"v2 ok", "GET", v2, ok, 200},
		{"v1 ok", "GET", v1, ok, 200},
		{"HEAD", "HEAD", v2, ok, 405},
		{"POST", "POST", v2, ok, 405},
		{"no Content-Type", "GET", v2, with("Content-Type", ""), 400},
		{"Content-Type with charset", "GET", v2, with("Content-Type", "application/octet-stream; charset=binary"), 400},
		{"no expected length", "GET", v2, with("X-Payload-Expected-Content-Length", ""), 400},
		{"signed expected length", "GET", v2, with("X-Payload-Expected-Content-Length", "+4096"), 400},
		{"negative expected length", "GET", v1, with("X-Payload-Expected-Content-Length", "-1"), 400},
		{"no key", "GET", "/v2/blobs/get", ok, 400},
		{"no digest", "GET", "/v1/blobs/get", ok, 400},
		{"unknown key", "GET", v2 + "0", ok, 404},
		{"health", "HEAD", "/v2/health/head", nil, 200},
		{"unknown route", "GET", "/v3/blobs/get", ok, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doDD(t, tc.method, svc.URL+tc.path, tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %d %q, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
			}
			if tc.want == 200 && tc.method == "GET" && string(body) != string(p.Data) {
				t.Fatal("served bytes differ from the stored blob")
			}
		})
	}
	if reqs := svc.Requests(); reqs[len(reqs)-1].Status != 404 || reqs[len(reqs)-1].Path != "/v3/blobs/get" {
		t.Fatalf("last recorded request %+v", reqs[len(reqs)-1])
	}
	v2only := testenv.StartDataDogServiceWith(t, testenv.DataDogServiceOptions{V2Only: true})
	if resp, _ := doDD(t, "GET", v2only.URL+v1, ok); resp.StatusCode != 404 {
		t.Fatalf("v1 on a v2-only service: %d, want 404", resp.StatusCode)
	}
}

// TestDataDogServiceLengths: a GET declares the expected length and writes what is
// stored in one write, as the real handler over its memory driver: a claim under or over
// the stored length both end the body early (net/http refuses a write past the declared
// length whole).
func TestDataDogServiceLengths(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	p := testenv.DataDogPayload("random", 1000, 2)
	var ref struct{ Digest string }
	mustJSON(t, svc.Ref("v1", "default", p).Data, &ref)
	get := func(expected string) (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", svc.URL+"/v1/blobs/get?digest="+ref.Digest, nil)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-Payload-Expected-Content-Length", expected)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	if resp, b, err := get("10"); !errors.Is(err, io.ErrUnexpectedEOF) || resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("claim under stored: %d, %d bytes, %v; want 200, no bytes, unexpected EOF", resp.StatusCode, len(b), err)
	}
	if resp, b, err := get("2000"); !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != 2000 || len(b) != 1000 {
		t.Fatalf("claim over stored: length %d, %d bytes, %v; want 2000 declared, 1000 sent, unexpected EOF", resp.ContentLength, len(b), err)
	}
	svc.SetFault(testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 503, Times: 1})
	if resp, _, _ := get("1000"); resp.StatusCode != 503 {
		t.Fatalf("fault: %d, want 503", resp.StatusCode)
	}
	if resp, b, err := get("1000"); resp.StatusCode != 200 || len(b) != 1000 || err != nil {
		t.Fatalf("after the fault: %d, %d bytes, %v", resp.StatusCode, len(b), err)
	}
}

func doDD(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // a refusal keeps the declared length: its body may end early
	return resp, b
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
