package payloadsvc

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// PreviewHeader lets a codec request choose previews: "1" previews every offloaded
// payload, "0" none; without it, browsers get previews over Options.PreviewBytes.
const PreviewHeader = "X-Longhaul-Preview"

// PreviewMetadataKey marks a preview payload's metadata, so a program can tell a
// preview from the payload it stands for.
const PreviewMetadataKey = "longhaul-preview"

// previewHeadBytes is how much of the data a preview shows.
const previewHeadBytes = 1 << 10

// Preview is what a previewed payload's data holds, as JSON under "longhaulPreview":
// enough to recognise the payload, and a link to fetch it whole.
type Preview struct {
	// Size is the length of the payload's data in bytes.
	Size int `json:"size"`
	// SHA256 is the content address of the stored blob for a reference by SHA-256 (v1:
	// the reference's sha256); "" otherwise.
	SHA256 string `json:"sha256,omitempty"`
	// BLAKE3 is the content address of the stored blob for a reference by BLAKE3 (v2: the
	// reference's blake3); "" otherwise.
	BLAKE3 string `json:"blake3,omitempty"`
	// Encoding is the payload's metadata encoding, e.g. "json/plain".
	Encoding string `json:"encoding"`
	// Head is the start of the data (at most 1 KiB, cut at a character boundary; bytes
	// that are not UTF-8 become U+FFFD).
	Head string `json:"head"`
	// Download is a signed link that serves the whole data without a bearer token.
	Download string `json:"download"`
	// Expires is when the link stops working.
	Expires time.Time `json:"expires"`
}

// previewWrapper is the JSON object a preview payload's data holds.
type previewWrapper struct {
	Preview Preview `json:"longhaulPreview"`
}

// previews replaces decoded references of every kind whose data is over limit with
// previews; adm holds what admission's codec.Locate said of each payload, so none is
// parsed again.
func (l *links) previews(r *http.Request, limit int, ns string, adm *admitted, out []*commonpb.Payload) ([]*commonpb.Payload, error) {
	located := adm.located
	for i, p := range adm.payloads {
		if len(out[i].GetData()) <= limit {
			continue
		}
		if !located[i].ok || located[i].err != nil {
			continue
		}
		prev, err := l.preview(r, ns, p, out[i], located[i].loc)
		if err != nil {
			return nil, err
		}
		out[i] = prev // out is DecodeContext's own slice: there was a reference
	}
	return out, nil
}

// previewPolicy is Options.PreviewBytes: which codec requests get previews.
type previewPolicy int

// limit returns the data size over which a decoded payload is previewed, and whether
// previews apply to this request at all.
func (p previewPolicy) limit(r *http.Request) (int, bool) {
	switch strings.ToLower(r.Header.Get(PreviewHeader)) {
	case "1", "true", "yes":
		return -1, true
	case "0", "false", "no":
		return 0, false
	}
	// Only browsers send Origin on these POSTs: the UI, which chokes on huge JSON.
	if p < 0 || r.Header.Get("Origin") == "" {
		return 0, false
	}
	return int(p), true
}

// preview builds the json/plain payload that stands for a decoded one; its download link
// names the reference itself, so a download goes through the same parser and path.
func (l *links) preview(r *http.Request, ns string, ref, decoded *commonpb.Payload, loc codec.Locator) (*commonpb.Payload, error) {
	data := decoded.GetData()
	head := data
	if len(head) > previewHeadBytes {
		head = head[:previewHeadBytes]
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1] // don't split the last character
		}
	}
	exp := l.now().Add(l.ttl).Truncate(time.Second)
	link, err := l.path(ns, ref, loc, exp, requestInfoFrom(r.Context()).subject)
	if err != nil {
		return nil, err
	}
	w := previewWrapper{Preview: Preview{
		Size:     len(data),
		Encoding: string(decoded.GetMetadata()["encoding"]),
		Head:     strings.ToValidUTF8(string(head), "\uFFFD"),
		Download: l.baseURL(r) + link,
		Expires:  exp.UTC(),
	}}
	if loc.Algorithm == driver.BLAKE3 {
		w.Preview.BLAKE3 = loc.Digest
	} else {
		w.Preview.SHA256 = loc.Digest
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // people read the link: keep "&" as is
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), PreviewMetadataKey: []byte("1")},
		Data:     bytes.TrimSuffix(body.Bytes(), []byte("\n")),
	}, nil
}
