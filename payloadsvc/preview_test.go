package payloadsvc

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

var update = flag.Bool("update", false, "rewrite golden files")

// previewService serves with a pinned clock, key and public URL, so previews are
// reproducible, and with auth on, to show downloads need no token. Its codec writes
// references by hash: v2 (BLAKE3), or v1 (SHA256).
func previewService(t *testing.T, hash ...codec.Hash) *service {
	t.Helper()
	copts := codec.Options{Compression: codec.NoCompression}
	if len(hash) > 0 {
		copts.Hash = hash[0]
	}
	auth, _ := NewTokenAuthorizer(map[string][]string{tokenDefault: {"default"}})
	svc := startService(t, nil, Options{
		Authorizer:  auth,
		CORSOrigins: []string{testOrigin},
		PublicURL:   "https://payloads.example/",
		SigningKey:  []byte("0123456789abcdef0123456789abcdef"),
		Codec:       copts,
	})
	svc.h.links.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return svc
}

// bigJSON is a json/plain payload of about n bytes whose data starts with a marker.
func bigJSON(t testing.TB, n int) *commonpb.Payload {
	return jsonPayload(t, "MARKER-7f3a "+strings.Repeat("The quick brown fox jumps over the lazy dog. ", n/45))
}

func decodePreview(t *testing.T, p *commonpb.Payload) Preview {
	t.Helper()
	if string(p.Metadata["encoding"]) != "json/plain" || string(p.Metadata[PreviewMetadataKey]) != "1" {
		t.Fatalf("payload metadata %q is not a preview's", p.Metadata)
	}
	var w previewWrapper
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("preview data %s: %v", short(p.Data), err)
	}
	return w.Preview
}

// TestPreviewGolden pins the preview's wire format for references v2 and v1, and shows
// a browser gets a preview for a payload over the limit and the whole payload under it.
func TestPreviewGolden(t *testing.T) {
	for _, tc := range []struct {
		hash   codec.Hash
		golden string
	}{
		{codec.BLAKE3, "preview_v2.golden.json"},
		{codec.SHA256, "preview.golden.json"},
	} {
		t.Run(string(tc.hash), func(t *testing.T) { checkPreviewGolden(t, tc.hash, tc.golden) })
	}
}

func checkPreviewGolden(t *testing.T, hash codec.Hash, name string) {
	svc := previewService(t, hash)
	big, small := bigJSON(t, 2<<20), bigJSON(t, 300<<10)
	auth := map[string]string{"Authorization": "Bearer " + tokenDefault}
	enc := svc.postPayloads(t, "/codec/default/encode", auth, big, small)

	browser := map[string]string{"Authorization": "Bearer " + tokenDefault, "Origin": testOrigin, "X-Namespace": "default"}
	dec := svc.postPayloads(t, "/codec/decode", browser, enc...)
	if !proto.Equal(dec[1], small) {
		t.Fatal("a payload under the preview limit was not returned whole")
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, dec[0].Data, "", "  "); err != nil {
		t.Fatal(err)
	}
	got := indented.Bytes()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPreviewGolden -update)", err)
	}
	if string(got)+"\n" != string(want) {
		t.Fatalf("preview differs from %s:\n got: %s\nwant: %s", golden, got, want)
	}
	p := decodePreview(t, dec[0])
	if p.Size != len(big.Data) || !strings.HasPrefix(p.Head, `"MARKER-7f3a The quick`) || len(p.Head) > previewHeadBytes {
		t.Fatalf("preview size %d head %q: want size %d and the first KiB", p.Size, p.Head, len(big.Data))
	}
	ref, err := codec.ParseReference(enc[0])
	if err != nil {
		t.Fatal(err)
	}
	addr := map[codec.Hash]string{codec.BLAKE3: p.BLAKE3, codec.SHA256: p.SHA256}
	if addr[hash] == "" || addr[hash] != ref.BLAKE3+ref.SHA256 || p.BLAKE3+p.SHA256 != addr[hash] ||
		!strings.Contains(p.Download, "/v1/download/default/"+string(hash)+"/"+addr[hash]+"?") {
		t.Fatalf("preview names blake3 %q, sha256 %q, link %s; want only the %s of the reference", p.BLAKE3, p.SHA256, p.Download, hash)
	}
}

// TestPreviewDownload: the link of a reference v2 or v1 serves the whole data without a
// bearer token, and nothing once tampered with or expired.
func TestPreviewDownload(t *testing.T) {
	for _, hash := range []codec.Hash{codec.BLAKE3, codec.SHA256} {
		t.Run(string(hash), func(t *testing.T) { checkPreviewDownload(t, hash) })
	}
}

func checkPreviewDownload(t *testing.T, hash codec.Hash) {
	svc := previewService(t, hash)
	big := bigJSON(t, 2<<20)
	auth := map[string]string{"Authorization": "Bearer " + tokenDefault}
	enc := svc.postPayloads(t, "/codec/default/encode", auth, big)
	dec := svc.postPayloads(t, "/codec/default/decode", map[string]string{"Authorization": "Bearer " + tokenDefault, PreviewHeader: "1"}, enc...)
	p := decodePreview(t, dec[0])

	u, err := url.Parse(p.Download)
	if err != nil || u.Scheme != "https" || u.Host != "payloads.example" {
		t.Fatalf("download link %q is not under PublicURL", p.Download)
	}
	link := u.RequestURI()
	status, hdr, body := svc.do(t, "GET", link, nil, nil) // no token
	if status != 200 || !bytes.Equal(body, big.Data) {
		t.Fatalf("GET download link: %d, %d bytes; want 200 and the %d-byte data", status, len(body), len(big.Data))
	}
	if cd := hdr.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
		t.Fatalf("Content-Disposition %q, want an attachment .json", cd)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}

	tamper := func(key, val string) string {
		q := u.Query()
		q.Set(key, val)
		return u.Path + "?" + q.Encode()
	}
	for _, tc := range []struct{ name, path, want string }{
		{"signature changed", tamper("sig", strings.Repeat("0", 64)), "signature is not valid"},
		{"signature missing", u.Path, "signature is not valid"},
		{"expiry extended", tamper("exp", "4102444800"), "signature is not valid"},
		{"other namespace", strings.Replace(link, "/download/default/", "/download/other/", 1), "signature is not valid"},
	} {
		status, _, body := svc.do(t, "GET", tc.path, nil, nil)
		if status != 403 || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s, want 403 %q", tc.name, status, short(body), tc.want)
		}
	}
	// Signed by the key holder for the other hash of the digest: the signature holds,
	// yet the reference it carries has no such address.
	other := map[codec.Hash]string{codec.BLAKE3: driver.SHA256, codec.SHA256: driver.BLAKE3}[hash]
	swapped := resign(t, svc.h.links, strings.Replace(link, "/"+string(hash)+"/", "/"+other+"/", 1), func(url.Values) {})
	if status, _, body := svc.do(t, "GET", swapped, nil, nil); status != 400 || !strings.Contains(string(body), "no reference of this "+other+" digest") {
		t.Errorf("link re-signed for %s: %d %s, want 400 naming the hash", other, status, short(body))
	}
	svc.h.links.now = func() time.Time {
		return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(DefaultDownloadTTL + time.Second)
	}
	if status, _, body := svc.do(t, "GET", link, nil, nil); status != 403 || !strings.Contains(string(body), "expired at 2026-01-02T03:19:05Z") {
		t.Fatalf("expired link: %d %s, want 403 naming the expiry", status, short(body))
	}
}

// TestPreviewChoice: who gets previews. Programs (no Origin) get whole payloads unless
// they ask; browsers get previews over the limit unless they refuse.
func TestPreviewChoice(t *testing.T) {
	svc := previewService(t)
	big := bigJSON(t, 2<<20)
	enc := svc.postPayloads(t, "/codec/default/encode", map[string]string{"Authorization": "Bearer " + tokenDefault}, big)
	for _, tc := range []struct {
		name    string
		hdr     map[string]string
		preview bool
	}{
		{"program", nil, false},
		{"program asking", map[string]string{PreviewHeader: "1"}, true},
		{"browser", map[string]string{"Origin": testOrigin}, true},
		{"browser refusing", map[string]string{"Origin": testOrigin, PreviewHeader: "0"}, false},
	} {
		hdr := map[string]string{"Authorization": "Bearer " + tokenDefault}
		for k, v := range tc.hdr {
			hdr[k] = v
		}
		dec := svc.postPayloads(t, "/codec/default/decode", hdr, enc...)
		if got := string(dec[0].Metadata[PreviewMetadataKey]) == "1"; got != tc.preview {
			t.Errorf("%s: preview = %v, want %v", tc.name, got, tc.preview)
		}
		if !tc.preview && !proto.Equal(dec[0], big) {
			t.Errorf("%s: payload not returned whole", tc.name)
		}
	}

	never := startService(t, nil, Options{PreviewBytes: -1})
	enc = never.postPayloads(t, "/codec/default/encode", nil, big)
	if dec := never.postPayloads(t, "/codec/default/decode", map[string]string{"Origin": testOrigin}, enc...); !proto.Equal(dec[0], big) {
		t.Error("PreviewBytes -1: browser got a preview")
	}
}

// TestPreviewHeadIsValidUTF8: binary data, and text cut mid-character, give a valid head.
func TestPreviewHeadIsValidUTF8(t *testing.T) {
	svc := previewService(t)
	bin := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: bytes.Repeat([]byte{0xff, 0xfe, 'a', 0xe2, 0x82}, 100<<10)}
	text := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + strings.Repeat("€", 200<<10) + `"`)}
	hdr := map[string]string{"Authorization": "Bearer " + tokenDefault, PreviewHeader: "1"}
	enc := svc.postPayloads(t, "/codec/default/encode", hdr, bin, text)
	dec := svc.postPayloads(t, "/codec/default/decode", hdr, enc...)
	for i, p := range dec {
		pv := decodePreview(t, p)
		if !utf8.ValidString(pv.Head) || pv.Head == "" || len(pv.Head) > previewHeadBytes+3*previewHeadBytes {
			t.Errorf("payload %d: head of %d bytes is not a valid, short UTF-8 string", i, len(pv.Head))
		}
	}
	if pv := decodePreview(t, dec[1]); strings.ContainsRune(pv.Head, utf8.RuneError) {
		t.Error("text head has U+FFFD: it was cut mid-character")
	}
	status, hdrs, _ := svc.do(t, "GET", mustURL(t, decodePreview(t, dec[0]).Download).RequestURI(), nil, nil)
	if status != 200 || hdrs.Get("Content-Type") != "application/octet-stream" || !strings.Contains(hdrs.Get("Content-Disposition"), ".bin") {
		t.Fatalf("binary download: %d %q %q", status, hdrs.Get("Content-Type"), hdrs.Get("Content-Disposition"))
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
