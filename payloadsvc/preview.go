package payloadsvc

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

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
	// SHA256 is the content address of the stored blob (the reference's sha256).
	SHA256 string `json:"sha256"`
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

// previews replaces decoded references of every kind with previews where the request
// wants them.
func (h *handler) previews(r *http.Request, c *codec.Codec, ns string, in, out []*commonpb.Payload) ([]*commonpb.Payload, error) {
	limit, on := h.previewLimit(r)
	if !on {
		return out, nil
	}
	for i, p := range in {
		if len(out[i].GetData()) <= limit {
			continue
		}
		loc, ok, err := c.Locate(p)
		if !ok || err != nil {
			continue
		}
		prev, err := h.preview(r, ns, p, loc, out[i])
		if err != nil {
			return nil, err
		}
		out[i] = prev // out is DecodeContext's own slice: there was a reference
	}
	return out, nil
}

// previewLimit returns the data size over which a decoded payload is previewed, and
// whether previews apply to this request at all.
func (h *handler) previewLimit(r *http.Request) (int, bool) {
	switch strings.ToLower(r.Header.Get(PreviewHeader)) {
	case "1", "true", "yes":
		return -1, true
	case "0", "false", "no":
		return 0, false
	}
	// Only browsers send Origin on these POSTs: the UI, which chokes on huge JSON.
	if h.opts.PreviewBytes < 0 || r.Header.Get("Origin") == "" {
		return 0, false
	}
	return h.opts.PreviewBytes, true
}

// preview builds the json/plain payload that stands for a decoded one; its download link
// names the reference itself, so a download goes through the same parser and path.
func (h *handler) preview(r *http.Request, ns string, ref *commonpb.Payload, loc codec.Locator, decoded *commonpb.Payload) (*commonpb.Payload, error) {
	data := decoded.GetData()
	head := data
	if len(head) > previewHeadBytes {
		head = head[:previewHeadBytes]
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1] // don't split the last character
		}
	}
	exp := h.now().Add(h.opts.DownloadTTL).Truncate(time.Second)
	link, err := h.downloadPath(ns, ref, loc, exp, requestInfoFrom(r.Context()).subject)
	if err != nil {
		return nil, err
	}
	w := previewWrapper{Preview: Preview{
		Size:     len(data),
		SHA256:   loc.Digest,
		Encoding: string(decoded.GetMetadata()["encoding"]),
		Head:     strings.ToValidUTF8(string(head), "\uFFFD"),
		Download: h.baseURL(r) + link,
		Expires:  exp.UTC(),
	}}
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

// baseURL is Options.PublicURL, else the scheme and host the request came to.
func (h *handler) baseURL(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return h.opts.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// maxLinkRef bounds the reference a download link carries (references are a few hundred
// bytes; an External Storage reference at most 64 KiB).
const maxLinkRef = 64 << 10

// downloadPath is the signed path and query of a download link: the reference payload
// itself (base64url of its serialization), so the download parses it like a decode
// request, whatever its kind. The signature covers the namespace, the reference, the
// expiry and the subject the link was made for, whom the download's audit line names.
func (h *handler) downloadPath(ns string, ref *commonpb.Payload, loc codec.Locator, exp time.Time, subject string) (string, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
	if err != nil {
		return "", fmt.Errorf("download link: %w", err)
	}
	q := url.Values{"r": {base64.RawURLEncoding.EncodeToString(raw)}, "exp": {strconv.FormatInt(exp.Unix(), 10)}}
	if subject != "" {
		q.Set("sub", subject)
	}
	q.Set("sig", h.sign(ns, loc.Digest, q))
	return "/v1/download/" + url.PathEscape(ns) + "/" + loc.Algorithm + "/" + loc.Digest + "?" + q.Encode(), nil
}

// sign is hex HMAC-SHA256 over the namespace, digest, reference, expiry and subject.
func (h *handler) sign(ns, digest string, q url.Values) string {
	m := hmac.New(sha256.New, h.opts.SigningKey)
	fmt.Fprintf(m, "longhaul-download-v3\n%s\n%s\n%s\n%s\n%s", ns, digest, q.Get("r"), q.Get("exp"), q.Get("sub"))
	return hex.EncodeToString(m.Sum(nil))
}

// serveDownload serves a previewed payload's data to whoever holds a valid, unexpired
// link: no bearer token, since a person opens it from the UI in a new tab. The download is
// admitted against the in-flight budget by its reference's bound, like a decode, and cut
// off when the client stops reading (Options.WriteStallTimeout).
func (h *handler) serveDownload(w http.ResponseWriter, r *http.Request, rt route) {
	ns := rt.namespace
	if err := driver.ValidateNamespace(ns); err != nil {
		writeErrorLogged(w, r, http.StatusBadRequest, "bad namespace: "+err.Error(), "bad namespace")
		return
	}
	requestInfoFrom(r.Context()).namespace = ns
	ref, ok := h.linkReference(w, r, ns, rt.digest)
	if !ok {
		return
	}
	c, err := h.codecFor(ns)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad namespace: %v", err)
		return
	}
	loc, isRef, err := c.Locate(ref)
	switch {
	case !isRef || (err == nil && loc.Digest != rt.digest):
		writeError(w, r, http.StatusBadRequest, "download link names no reference of this digest")
		return
	case err != nil:
		h.storeFailure(w, r, "download", err)
		return
	}
	res := &reservation{b: h.inflight}
	defer res.release()
	if h.refuse(w, r, res.add("download", loc.Bound())) {
		return
	}
	p, err := c.Fetch(r.Context(), loc)
	if err != nil {
		h.storeFailure(w, r, "download", err)
		return
	}
	h.writeDownload(w, r, rt.digest, p)
}

// linkReference checks a download link's signature and expiry and returns the reference
// it carries; it answers errors itself.
func (h *handler) linkReference(w http.ResponseWriter, r *http.Request, ns, digest string) (*commonpb.Payload, bool) {
	q := r.URL.Query()
	want, err := hex.DecodeString(q.Get("sig"))
	got, _ := hex.DecodeString(h.sign(ns, digest, q))
	if err != nil || !hmac.Equal(want, got) {
		h.auditRefusal(r, ns, http.StatusForbidden, forbidden(ReasonBadSignature, "", "download link signature is not valid"))
		writeError(w, r, http.StatusForbidden, "download link signature is not valid")
		return nil, false
	}
	exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64) // signed, so well-formed
	if h.now().Unix() > exp {
		h.auditRefusal(r, ns, http.StatusForbidden, forbidden(ReasonExpired, q.Get("sub"), "download link expired"))
		writeError(w, r, http.StatusForbidden, "download link expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
		return nil, false
	}
	info := requestInfoFrom(r.Context())
	info.subject, info.authMethod = q.Get("sub"), "link"
	raw, err := base64.RawURLEncoding.DecodeString(q.Get("r"))
	ref := &commonpb.Payload{}
	if err != nil || len(raw) > maxLinkRef || proto.Unmarshal(raw, ref) != nil {
		writeError(w, r, http.StatusBadRequest, "download link carries no valid reference")
		return nil, false
	}
	return ref, true
}

// writeDownload answers a downloaded payload's data as an attachment.
func (h *handler) writeDownload(w http.ResponseWriter, r *http.Request, digest string, p *commonpb.Payload) {
	auditPayloads(r, routeDownload, nil, []*commonpb.Payload{p})
	data := p.GetData()
	enc := string(p.GetMetadata()["encoding"])
	ctype, ext := "application/octet-stream", ".bin"
	if strings.HasPrefix(enc, "json/") {
		ctype, ext = "application/json", ".json"
	}
	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	hdr.Set("Content-Disposition", `attachment; filename="payload-`+digest[:12]+ext+`"`)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if err := h.writeAll(w, data); err != nil {
		logDetail(r, fmt.Errorf("client stopped reading the download: %w", err))
	}
}
