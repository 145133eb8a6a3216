package payloadsvc

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// linkAuth is the downloads' authentication: a valid, unexpired signed link, no bearer
// token, since a person opens it from the UI in a new tab. It hands the reference the
// link carries down in the request's context, and answers refusals itself.
type linkAuth struct {
	next     http.Handler
	links    *links
	refusals refusals
}

type linkRefKey struct{}

// linkRefFrom is the reference of a download link that linkAuth checked.
func linkRefFrom(ctx context.Context) *commonpb.Payload {
	p, _ := ctx.Value(linkRefKey{}).(*commonpb.Payload)
	return p
}

func (a *linkAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	ns, q := info.namespace, r.URL.Query()
	want, err := hex.DecodeString(q.Get("sig"))
	got, _ := hex.DecodeString(a.links.sign(ns, info.rt.algorithm, info.rt.digest, q))
	if err != nil || !hmac.Equal(want, got) {
		a.refusals.note(r, ns, http.StatusForbidden, forbidden(ReasonBadSignature, "", "download link signature is not valid"))
		writeError(w, r, http.StatusForbidden, "download link signature is not valid")
		return
	}
	exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64) // signed, so well-formed
	if a.links.now().Unix() > exp {
		a.refusals.note(r, ns, http.StatusForbidden, forbidden(ReasonExpired, q.Get("sub"), "download link expired"))
		writeError(w, r, http.StatusForbidden, "download link expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
		return
	}
	info.subject, info.authMethod = q.Get("sub"), "link"
	raw, err := base64.RawURLEncoding.DecodeString(q.Get("r"))
	ref := &commonpb.Payload{}
	if err != nil || len(raw) > maxLinkRef || proto.Unmarshal(raw, ref) != nil {
		writeError(w, r, http.StatusBadRequest, "download link carries no valid reference")
		return
	}
	a.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), linkRefKey{}, ref)))
}

// downloads serves a previewed payload's data under linkAuth. The download is admitted
// against the in-flight budget by its reference's bound, like a decode, and cut off when
// the client stops reading (Options.WriteStallTimeout).
type downloads struct {
	budget *budget
	fail   *storeFailures
	stall  time.Duration
}

func (d *downloads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := requestInfoFrom(r.Context()).rt
	digest := rt.digest
	c := codecFrom(r.Context())
	loc, isRef, err := c.Locate(linkRefFrom(r.Context()))
	switch {
	case !isRef || (err == nil && (loc.Digest != digest || loc.Algorithm != rt.algorithm)):
		writeError(w, r, http.StatusBadRequest, "download link names no reference of this %s digest", rt.algorithm)
		return
	case err != nil:
		d.fail.fail(w, r, "download", err)
		return
	}
	res := &reservation{b: d.budget}
	defer res.release()
	if refuse(w, r, res.add("download", loc.Bound())) {
		return
	}
	p, err := c.Fetch(r.Context(), loc)
	if err != nil {
		d.fail.fail(w, r, "download", err)
		return
	}
	d.write(w, r, digest, p)
}

// write answers a downloaded payload's data as an attachment.
func (d *downloads) write(w http.ResponseWriter, r *http.Request, digest string, p *commonpb.Payload) {
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
	if err := writeAll(w, data, d.stall); err != nil {
		logDetail(r, fmt.Errorf("client stopped reading the download: %w", err))
	}
}
