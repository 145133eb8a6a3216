// Package datadog reads the references DataDog's large-payload codec
// (github.com/DataDog/temporal-large-payload-codec) left in history, v1 and v2, so a team
// switching to longhaul keeps decoding them. Its Reader is a codec.Reader: list it in
// codec.Options.Readers; the codec verifies, bounds and caches what it opens.
package datadog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// The DataDog large-payload codec leaves a payload with metadata
// "temporal.io/remote-codec" = "v1" or "v2" and JSON data {"metadata":{original metadata,
// base64 values},"size":<len of Data>,"digest":"sha256:<hex of Data>","key":"..."}; its
// HTTP service holds the original Data alone: v2 "GET {base}/v2/blobs/get?key=<key>",
// v1 "GET {base}/v1/blobs/get?digest=<digest>".
const (
	metadataKey = "temporal.io/remote-codec"
	// DefaultMaxSize bounds one DataDog blob when Options.MaxSize is zero.
	DefaultMaxSize = 128 << 20
	maxRefBytes    = 64 << 10
	// contentType is what DataDog's GET handlers require (else 400).
	contentType = "application/octet-stream"
)

// Options configures a Reader. URL or Store is required.
type Options struct {
	// URL is the base URL of the DataDog large-payload service, e.g. "http://lps:8577".
	URL string
	// Store, if set, is tried first: a longhaul Store holding the same bytes under
	// "v1/{namespace}/sha256/{hex of Data}" (a copy of the DataDog bucket, keyed by the
	// digest in the reference), so the DataDog service can be retired.
	Store driver.Store
	// HTTPClient makes the requests; default http.DefaultClient (the codec's Timeout
	// bounds each read).
	HTTPClient *http.Client
	// MaxSize bounds one blob; default DefaultMaxSize.
	MaxSize int64
	// Retry is the policy for transient HTTP failures; zero value = defaults.
	Retry driver.RetryPolicy
}

// Reader resolves DataDog large-payload codec references (v1 and v2); the codec verifies
// the "sha256:" digest of the data before returning it. Use it in codec.Options.Readers.
type Reader struct {
	opts   Options
	base   *url.URL
	client *http.Client // opts.HTTPClient, never following a redirect to another origin
}

var _ codec.Reader = (*Reader)(nil)

// NewReader returns a codec.Reader of DataDog large-payload codec references.
func NewReader(opts Options) (*Reader, error) {
	r := &Reader{}
	switch {
	case opts.URL == "" && opts.Store == nil:
		return nil, errors.New("datadog: Options needs URL or Store")
	case opts.MaxSize < 0:
		return nil, fmt.Errorf("datadog: Options.MaxSize is negative (%d)", opts.MaxSize)
	}
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("datadog: Options.URL %q is not an http(s) URL", opts.URL)
		}
		r.base = u
	}
	opts.MaxSize = cmp.Or(opts.MaxSize, DefaultMaxSize)
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	r.opts = opts
	r.client = sameOrigin(opts.HTTPClient)
	return r, nil
}

// Parse implements codec.Reader: a payload with metadata "temporal.io/remote-codec" v1 or
// v2. The v2 key must lie canonically under "/blobs/{namespace}/": its namespace is the
// Locator's, so a codec serving another refuses it.
func (r *Reader) Parse(c codec.Candidate) (codec.Locator, bool, error) {
	version := string(c.Payload.GetMetadata()[metadataKey])
	if version != "v1" && version != "v2" {
		return codec.Locator{}, false, nil
	}
	ref, sum, err := parseRef(version, c.Payload.GetData())
	if err != nil {
		return codec.Locator{Kind: codec.KindDataDog}, true, err
	}
	loc := codec.Locator{ // v1: no key, the service finds the blob by digest
		Kind: codec.KindDataDog, Size: ref.Size, Max: r.opts.MaxSize, Algorithm: "sha256", Digest: sum,
		RawSize: ref.Size, Compression: codec.NoCompression, Form: codec.FormData, Metadata: ref.Metadata,
	}
	if ref.Size > r.opts.MaxSize {
		return loc, true, fmt.Errorf("%w: DataDog reference size %d is over the %d-byte Options.MaxSize",
			codec.ErrInvalidReference, ref.Size, r.opts.MaxSize)
	}
	if version == "v2" {
		loc.Key = ref.Key
		if loc.Namespace, err = keyNamespace(ref.Key); err != nil {
			return loc, true, err
		}
	}
	return loc, true, nil
}

// Open implements codec.Reader: the Store first (when set), else the service, retried
// until a body starts.
func (r *Reader) Open(ctx context.Context, loc codec.Locator) (io.ReadCloser, error) {
	if r.opts.Store != nil {
		key, err := driver.Key(loc.Namespace, driver.SHA256, loc.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", codec.ErrInvalidReference, err)
		}
		rc, err := r.opts.Store.Get(ctx, key)
		if !errors.Is(err, driver.ErrNotFound) || r.base == nil {
			return rc, err
		}
	}
	var body io.ReadCloser
	err := driver.Retry(ctx, r.opts.Retry, func(ctx context.Context) error {
		var err error
		body, err = r.get(ctx, loc)
		return err
	}, nil)
	return body, err
}

// get asks DataDog's service for a blob as its handlers require (server/handler/v1, v2):
// GET with Content-Type application/octet-stream and X-Payload-Expected-Content-Length;
// the service answers that many bytes (Content-Length), or a body that breaks off when it
// holds fewer.
func (r *Reader) get(ctx context.Context, loc codec.Locator) (io.ReadCloser, error) {
	u := *r.base
	q := url.Values{}
	if loc.Key != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v2/blobs/get"
		q.Set("key", loc.Key)
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/blobs/get"
		q.Set("digest", loc.Algorithm+":"+loc.Digest)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, driver.Permanent(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Payload-Expected-Content-Length", strconv.FormatInt(loc.Size, 10))
	resp, err := r.client.Do(req)
	if err != nil {
		if errors.Is(err, errCrossOrigin) {
			return nil, driver.Permanent(fmt.Errorf("%w: %v", codec.ErrRefused, err))
		}
		return nil, err
	}
	switch c := resp.StatusCode; {
	case c == http.StatusOK:
		return sizedBody{resp.Body, resp.ContentLength}, nil
	case c == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s answered 404", driver.ErrNotFound, u.Path)
	case c >= 500 || c == http.StatusTooManyRequests || c == http.StatusRequestTimeout:
		resp.Body.Close()
		return nil, fmt.Errorf("%s answered %s", u.Path, resp.Status)
	default:
		resp.Body.Close()
		return nil, driver.Permanent(fmt.Errorf("%w: %s answered %s", codec.ErrRefused, u.Path, resp.Status))
	}
}
