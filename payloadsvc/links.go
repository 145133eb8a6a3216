package payloadsvc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// links makes and checks the signed download links of previews.
type links struct {
	key       []byte        // Options.SigningKey
	ttl       time.Duration // Options.DownloadTTL
	publicURL string        // Options.PublicURL
	now       func() time.Time
}

// baseURL is Options.PublicURL, else the scheme and host the request came to.
func (l *links) baseURL(r *http.Request) string {
	if l.publicURL != "" {
		return l.publicURL
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

// path is the signed path and query of a download link: the reference payload itself
// (base64url of its serialization), so the download parses it like a decode request,
// whatever its kind. The signature covers the namespace, the address (hash and digest),
// the reference, the expiry and the subject the link was made for, whom the download's
// audit line names.
func (l *links) path(ns string, ref *commonpb.Payload, loc codec.Locator, exp time.Time, subject string) (string, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
	if err != nil {
		return "", fmt.Errorf("download link: %w", err)
	}
	q := url.Values{"r": {base64.RawURLEncoding.EncodeToString(raw)}, "exp": {strconv.FormatInt(exp.Unix(), 10)}}
	if subject != "" {
		q.Set("sub", subject)
	}
	q.Set("sig", l.sign(ns, loc.Algorithm, loc.Digest, q))
	return "/v1/download/" + url.PathEscape(ns) + "/" + loc.Algorithm + "/" + loc.Digest + "?" + q.Encode(), nil
}

// sign is hex HMAC-SHA256 over the namespace, hash, digest, reference, expiry and
// subject: a link signed for one hash of a digest opens no other.
func (l *links) sign(ns, alg, digest string, q url.Values) string {
	m := hmac.New(sha256.New, l.key)
	fmt.Fprintf(m, "longhaul-download-v4\n%s\n%s\n%s\n%s\n%s\n%s", ns, alg, digest, q.Get("r"), q.Get("exp"), q.Get("sub"))
	return hex.EncodeToString(m.Sum(nil))
}
