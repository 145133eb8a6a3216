package codec

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// The DataDog large-payload codec (github.com/DataDog/temporal-large-payload-codec)
// leaves a payload with metadata "temporal.io/remote-codec" = "v1" or "v2" and JSON data
// {"metadata":{original metadata, base64 values},"size":<len of Data>,
// "digest":"sha256:<hex of Data>","key":"..."}; its HTTP service holds the original Data
// alone: v2 "GET {base}/v2/blobs/get?key=<key>", v1 "GET {base}/v1/blobs/get?digest=<digest>".
const (
	dataDogMetadataKey = "temporal.io/remote-codec"
	// DefaultDataDogMaxSize bounds one DataDog blob when DataDogOptions.MaxSize is zero.
	DefaultDataDogMaxSize = 128 << 20
	maxDataDogRefBytes    = 64 << 10
	// dataDogContentType is what DataDog's GET handlers require (else 400).
	dataDogContentType = "application/octet-stream"
)

// DataDogOptions configures a DataDogReader. URL or Store is required.
type DataDogOptions struct {
	// URL is the base URL of the DataDog large-payload service, e.g. "http://lps:8577".
	URL string
	// Store, if set, is tried first: a longhaul Store holding the same bytes under
	// "v1/{namespace}/sha256/{hex of Data}" (a copy of the DataDog bucket, keyed by the
	// digest in the reference), so the DataDog service can be retired.
	Store driver.Store
	// HTTPClient makes the requests; default http.DefaultClient (the codec's Timeout
	// bounds each read).
	HTTPClient *http.Client
	// MaxSize bounds one blob; default DefaultDataDogMaxSize.
	MaxSize int64
	// Retry is the policy for transient HTTP failures; zero value = defaults.
	Retry driver.RetryPolicy
}

// DataDogReader resolves DataDog large-payload codec references (v1 and v2), verifying
// the "sha256:" digest of the data before returning it. Use it in Options.Readers.
type DataDogReader struct {
	opts   DataDogOptions
	base   *url.URL
	client *http.Client // opts.HTTPClient, never following a redirect to another origin
}

var _ Reader = (*DataDogReader)(nil)

// NewDataDogReader returns a Reader of DataDog large-payload codec references.
func NewDataDogReader(opts DataDogOptions) (*DataDogReader, error) {
	r := &DataDogReader{}
	switch {
	case opts.URL == "" && opts.Store == nil:
		return nil, errors.New("codec: DataDogOptions needs URL or Store")
	case opts.MaxSize < 0:
		return nil, fmt.Errorf("codec: DataDogOptions.MaxSize is negative (%d)", opts.MaxSize)
	}
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("codec: DataDogOptions.URL %q is not an http(s) URL", opts.URL)
		}
		r.base = u
	}
	opts.MaxSize = cmp.Or(opts.MaxSize, DefaultDataDogMaxSize)
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	r.opts = opts
	r.client = sameOrigin(opts.HTTPClient)
	return r, nil
}

// Parse implements Reader: a payload with metadata "temporal.io/remote-codec" v1 or v2.
// The v2 key must lie canonically under "/blobs/{namespace}/": its namespace is the
// Locator's, so a codec serving another refuses it.
func (r *DataDogReader) Parse(c Candidate) (Locator, bool, error) {
	version := string(c.Payload.GetMetadata()[dataDogMetadataKey])
	if version != "v1" && version != "v2" {
		return Locator{}, false, nil
	}
	ref, sum, err := parseDataDogRef(version, c.Payload.GetData())
	if err != nil {
		return Locator{Kind: KindDataDog}, true, err
	}
	loc := Locator{ // v1: no key, the service finds the blob by digest
		Kind: KindDataDog, Size: ref.Size, Max: r.opts.MaxSize, Algorithm: "sha256", Digest: sum,
		RawSize: ref.Size, Compression: NoCompression, Form: FormData, Metadata: ref.Metadata,
	}
	if ref.Size > r.opts.MaxSize {
		return loc, true, fmt.Errorf("%w: DataDog reference size %d is over the %d-byte DataDogOptions.MaxSize", ErrInvalidReference, ref.Size, r.opts.MaxSize)
	}
	if version == "v2" {
		loc.Key = ref.Key
		if loc.Namespace, err = dataDogKeyNamespace(ref.Key); err != nil {
			return loc, true, err
		}
	}
	return loc, true, nil
}

// dataDogKeyNamespace checks a v2 key, "/blobs/{ns}/common/{digest}/{metadata hash}" or
// "/blobs/{ns}/custom/{prefix...}/{digest}/{metadata hash}", and returns its namespace.
// DataDog's service unescapes the key once more, so no '%' is allowed at all.
func dataDogKeyNamespace(key string) (string, error) {
	if !strings.HasPrefix(key, "/blobs/") || strings.Contains(key, "%") {
		return "", fmt.Errorf("%w: DataDog v2 key %q is not /blobs/{namespace}/... without '%%'", ErrInvalidReference, truncate(key, 120))
	}
	return ContainedKey(key, 1, "")
}

// Open implements Reader: the Store first (when set), else the service, retried until a
// body starts.
func (r *DataDogReader) Open(ctx context.Context, loc Locator) (io.ReadCloser, error) {
	if r.opts.Store != nil {
		key, err := driver.Key(loc.Namespace, loc.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidReference, err)
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
func (r *DataDogReader) get(ctx context.Context, loc Locator) (io.ReadCloser, error) {
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
	req.Header.Set("Content-Type", dataDogContentType)
	req.Header.Set("X-Payload-Expected-Content-Length", strconv.FormatInt(loc.Size, 10))
	resp, err := r.client.Do(req)
	if err != nil {
		if errors.Is(err, errCrossOrigin) {
			return nil, driver.Permanent(fmt.Errorf("%w: %v", ErrRefused, err))
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
		return nil, driver.Permanent(fmt.Errorf("%w: %s answered %s", ErrRefused, u.Path, resp.Status))
	}
}

type dataDogRef struct {
	Metadata map[string][]byte `json:"metadata"`
	Size     int64             `json:"size"`
	Digest   string            `json:"digest"`
	Key      string            `json:"key"`
}

func parseDataDogRef(version string, data []byte) (dataDogRef, string, error) {
	var ref dataDogRef
	if len(data) > maxDataDogRefBytes {
		return ref, "", fmt.Errorf("%w: DataDog reference is %d bytes, over %d", ErrInvalidReference, len(data), maxDataDogRefBytes)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		return ref, "", fmt.Errorf("%w: DataDog %s reference: %v", ErrInvalidReference, version, err)
	}
	sum, ok := strings.CutPrefix(ref.Digest, "sha256:")
	switch {
	case !ok || !isSHA256Hex(sum):
		return ref, "", fmt.Errorf("%w: DataDog reference field \"digest\" is %q, want sha256:<64 hex>", ErrInvalidReference, truncate(ref.Digest, 80))
	case ref.Size < 0:
		return ref, "", fmt.Errorf("%w: DataDog reference field \"size\" is negative (%d)", ErrInvalidReference, ref.Size)
	case version == "v2" && ref.Key == "":
		return ref, "", fmt.Errorf("%w: DataDog v2 reference field \"key\" is empty", ErrInvalidReference)
	}
	if err := CheckMetadata(ref.Metadata); err != nil {
		return ref, "", fmt.Errorf("%w: DataDog reference field \"metadata\": %v", ErrInvalidReference, err)
	}
	return ref, sum, nil
}

// sizedBody is an HTTP body that tells its Content-Length (-1: unknown), a Sizer.
type sizedBody struct {
	io.ReadCloser
	size int64
}

func (b sizedBody) Size() int64 { return b.size }

// errCrossOrigin: a foreign service redirected to another origin. History names the
// service, not where it sends us: such a redirect is never followed.
var errCrossOrigin = errors.New("redirect to another origin refused")

// sameOrigin returns c with a redirect policy that refuses to leave the origin of the
// first request; c itself is not changed.
func sameOrigin(c *http.Client) *http.Client {
	out := *c
	next := c.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if o := via[0].URL; req.URL.Scheme != o.Scheme || req.URL.Host != o.Host {
			return fmt.Errorf("%w: %s to %s://%s", errCrossOrigin, o.Host, req.URL.Scheme, req.URL.Host)
		}
		req.Header.Set("Content-Type", dataDogContentType) // net/http drops it on 301/302/303
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &out
}
