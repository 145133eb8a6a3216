package payloadsvc

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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

	"github.com/seed-a62fcf0e/longhaul/codec"
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

// previews replaces decoded references with previews where the request wants them.
func (h *handler) previews(r *http.Request, ns string, in, out []*commonpb.Payload) ([]*commonpb.Payload, error) {
	limit, on := h.previewLimit(r)
	if !on {
		return out, nil
	}
	for i, p := range in {
		if len(out[i].GetData()) <= limit {
			continue
		}
		ref, ok := blobReference(p)
		if !ok {
			continue
		}
		prev, err := h.preview(r, ns, ref, out[i])
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

// preview builds the json/plain payload that stands for a decoded one.
func (h *handler) preview(r *http.Request, ns string, ref codec.Reference, decoded *commonpb.Payload) (*commonpb.Payload, error) {
	data := decoded.GetData()
	head := data
	if len(head) > previewHeadBytes {
		head = head[:previewHeadBytes]
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1] // don't split the last character
		}
	}
	exp := h.now().Add(h.opts.DownloadTTL).Truncate(time.Second)
	w := previewWrapper{Preview: Preview{
		Size:     len(data),
		SHA256:   ref.SHA256,
		Encoding: string(decoded.GetMetadata()["encoding"]),
		Head:     strings.ToValidUTF8(string(head), "\uFFFD"),
		Download: h.baseURL(r) + h.downloadPath(ns, ref, exp, requestInfoFrom(r.Context()).subject),
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

// downloadPath is the signed path and query of a reference's download link. The
// signature covers everything the link asks the service to do, and the subject it was
// made for, whom the audit line of the download names.
func (h *handler) downloadPath(ns string, ref codec.Reference, exp time.Time, subject string) string {
	q := downloadQuery(ref, exp.Unix())
	if subject != "" {
		q.Set("sub", subject)
	}
	q.Set("sig", h.sign(ns, ref.SHA256, q))
	return "/v1/download/" + url.PathEscape(ns) + "/sha256/" + ref.SHA256 + "?" + q.Encode()
}

func downloadQuery(ref codec.Reference, exp int64) url.Values {
	return url.Values{
		"size": {strconv.FormatInt(ref.Size, 10)},
		"raw":  {strconv.FormatInt(ref.RawSize, 10)},
		"c":    {ref.Compression},
		"exp":  {strconv.FormatInt(exp, 10)},
	}
}

// sign is hex HMAC-SHA256 over the namespace, digest and the link's parameters.
func (h *handler) sign(ns, digest string, q url.Values) string {
	m := hmac.New(sha256.New, h.opts.SigningKey)
	fmt.Fprintf(m, "longhaul-download-v2\n%s\n%s\n%s\n%s\n%s\n%s\n%s",
		ns, digest, q.Get("size"), q.Get("raw"), q.Get("c"), q.Get("exp"), q.Get("sub"))
	return hex.EncodeToString(m.Sum(nil))
}

// serveDownload serves a previewed payload's data to whoever holds a valid, unexpired
// link: no bearer token, since a person opens it from the UI in a new tab.
func (h *handler) serveDownload(w http.ResponseWriter, r *http.Request, rt route) {
	ns := rt.namespace
	if err := codec.ValidateNamespace(ns); err != nil {
		writeErrorLogged(w, r, http.StatusBadRequest, "bad namespace: "+err.Error(), "bad namespace")
		return
	}
	requestInfoFrom(r.Context()).namespace = ns
	q := r.URL.Query()
	want, err := hex.DecodeString(q.Get("sig"))
	got, _ := hex.DecodeString(h.sign(ns, rt.digest, q))
	if err != nil || !hmac.Equal(want, got) {
		h.auditRefusal(r, ns, http.StatusForbidden, forbidden(ReasonBadSignature, "", "download link signature is not valid"))
		writeError(w, r, http.StatusForbidden, "download link signature is not valid")
		return
	}
	exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64) // signed, so well-formed
	if h.now().Unix() > exp {
		h.auditRefusal(r, ns, http.StatusForbidden, forbidden(ReasonExpired, q.Get("sub"), "download link expired"))
		writeError(w, r, http.StatusForbidden, "download link expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
		return
	}
	info := requestInfoFrom(r.Context())
	info.subject, info.authMethod = q.Get("sub"), "link"
	size, err1 := strconv.ParseInt(q.Get("size"), 10, 64)
	raw, err2 := strconv.ParseInt(q.Get("raw"), 10, 64)
	if err1 != nil || err2 != nil {
		writeError(w, r, http.StatusBadRequest, "download link has a bad size or raw parameter")
		return
	}
	ref := codec.Reference{V: codec.RefVersion, SHA256: rt.digest, Size: size, RawSize: raw, Compression: q.Get("c")}
	refPayload, err := ref.Payload()
	if err != nil {
		logDetail(r, err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	c, err := h.codecFor(ns)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad namespace: %v", err)
		return
	}
	p, err := c.Resolve(r.Context(), refPayload)
	if err != nil {
		h.storeFailure(w, r, "download", err)
		return
	}
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
	hdr.Set("Content-Disposition", `attachment; filename="payload-`+rt.digest[:12]+ext+`"`)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
