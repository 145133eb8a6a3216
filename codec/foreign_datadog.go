package codec

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
)

// The DataDog large-payload codec (github.com/DataDog/temporal-large-payload-codec)
// leaves a payload with metadata "temporal.io/remote-codec" = "v1" or "v2" and JSON data
// {"metadata":{original metadata, base64 values},"size":<len of Data>,
// "digest":"sha256:<hex of Data>","key":"..."}; its HTTP service holds the original Data
// alone: v2 "GET {base}/v2/blobs/get?key=<key>", v1 "GET {base}/v1/blobs/get?digest=<digest>".
// Its GET handlers answer 400 unless the request carries "Content-Type:
// application/octet-stream" and "X-Payload-Expected-Content-Length: <size>"; they then
// declare that length and send what they hold, so a stored blob of another length arrives
// as a body that ends early.
const (
	dataDogMetadataKey = "temporal.io/remote-codec"
	// DefaultDataDogMaxSize bounds one DataDog blob when DataDogOptions.MaxSize is zero.
	DefaultDataDogMaxSize = 128 << 20
	maxDataDogRefBytes    = 64 << 10
)

// DataDogOptions configures a DataDogReader. URL or Store is required.
type DataDogOptions struct {
	// URL is the base URL of the DataDog large-payload service, e.g. "http://lps:8577".
	URL string
	// Store, if set, is tried first: a longhaul Store holding the same bytes under
	// "v1/{namespace}/sha256/{hex of Data}" (a copy of the DataDog bucket, keyed by the
	// digest in the reference), so the DataDog service can be retired.
	Store Store
	// HTTPClient makes the requests; default http.DefaultClient (the codec's Timeout
	// bounds each read). The reader uses a copy that never follows a redirect to another
	// origin.
	HTTPClient *http.Client
	// MaxSize bounds one blob; default DefaultDataDogMaxSize.
	MaxSize int64
	// Retry is the policy for transient HTTP failures; zero value = defaults.
	Retry RetryPolicy
}

// DataDogReader resolves DataDog large-payload codec references (v1 and v2), verifying
// the "sha256:" digest of the data before returning it. Use it in Options.Readers.
type DataDogReader struct {
	opts DataDogOptions
	base *url.URL
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
	opts.HTTPClient = sameOriginClient(cmp.Or(opts.HTTPClient, http.DefaultClient))
	r.opts = opts
	return r, nil
}

// Recognize implements Reader.
func (r *DataDogReader) Recognize(p *commonpb.Payload) bool {
	v := string(p.GetMetadata()[dataDogMetadataKey])
	return v == "v1" || v == "v2"
}

type dataDogRef struct {
	Metadata map[string][]byte `json:"metadata"`
	Size     int64             `json:"size"`
	Digest   string            `json:"digest"`
	Key      string            `json:"key"`
}

// Read implements Reader: the Store first (when set), else the service; the data must
// have the reference's digest and size.
func (r *DataDogReader) Read(ctx context.Context, namespace string, p *commonpb.Payload) (*commonpb.Payload, error) {
	version := string(p.GetMetadata()[dataDogMetadataKey])
	ref, sum, err := parseDataDogRef(version, p.GetData())
	if err != nil {
		return nil, err
	}
	if ref.Size > r.opts.MaxSize {
		return nil, fmt.Errorf("%w: DataDog reference size %d is over the %d-byte DataDogOptions.MaxSize", ErrCorrupt, ref.Size, r.opts.MaxSize)
	}
	var data []byte
	err = ErrNotFound
	if r.opts.Store != nil {
		data, err = r.fromStore(ctx, namespace, sum, ref.Size)
	}
	if errors.Is(err, ErrNotFound) && r.base != nil {
		err = Retry(ctx, r.opts.Retry, func(ctx context.Context) error {
			var err error
			data, err = r.fromService(ctx, version, ref)
			return err
		}, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("DataDog %s reference %s: %w", version, ref.Digest, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%w: DataDog %s reference: data has sha256 %x, reference says %s", ErrCorrupt, version, got, sum)
	}
	if int64(len(data)) != ref.Size {
		return nil, fmt.Errorf("%w: DataDog %s reference: data is %d bytes, reference says %d", ErrCorrupt, version, len(data), ref.Size)
	}
	return &commonpb.Payload{Metadata: ref.Metadata, Data: data}, nil
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
	return ref, sum, nil
}

func (r *DataDogReader) fromStore(ctx context.Context, namespace, sum string, size int64) ([]byte, error) {
	key, err := BlobKey(namespace, sum)
	if err != nil {
		return nil, err
	}
	rc, err := r.opts.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readBounded(rc, min(size, r.opts.MaxSize))
}

func (r *DataDogReader) fromService(ctx context.Context, version string, ref dataDogRef) ([]byte, error) {
	u := *r.base
	q := url.Values{}
	if version == "v2" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v2/blobs/get"
		q.Set("key", ref.Key)
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/blobs/get"
		q.Set("digest", ref.Digest)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, Permanent(err)
	}
	// Without these two headers the service answers 400 to every GET.
	req.Header.Set("Content-Type", dataDogContentType)
	req.Header.Set("X-Payload-Expected-Content-Length", strconv.FormatInt(ref.Size, 10))
	resp, err := r.opts.HTTPClient.Do(req)
	if errors.Is(err, errCrossOrigin) {
		return nil, Permanent(err)
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s answered 404", ErrNotFound, u.Path)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%s answered %s", u.Path, resp.Status)
	default: // 4xx: a request the service refuses; asking again gets the same answer
		return nil, Permanent(fmt.Errorf("%s answered %s", u.Path, resp.Status))
	}
	if resp.ContentLength >= 0 && resp.ContentLength != ref.Size {
		return nil, Permanent(fmt.Errorf("%w: blob is %d bytes, the reference says %d", ErrCorrupt, resp.ContentLength, ref.Size))
	}
	data, err := readBounded(resp.Body, min(ref.Size, r.opts.MaxSize))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The service declares the reference's size and sends what it holds: a body that
		// ends early is a blob of another length, not an outage.
		return nil, Permanent(fmt.Errorf("%w: body ended before the reference's %d bytes: %v", ErrCorrupt, ref.Size, err))
	}
	return data, err
}

// readBounded reads all of src, failing with ErrCorrupt past max (the reference's size
// or MaxSize); it grows with what arrives, never from a claimed size.
func readBounded(src io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(src, max+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > max {
		return nil, Permanent(fmt.Errorf("%w: blob is over %d bytes (the reference's size or MaxSize)", ErrCorrupt, max))
	}
	return buf.Bytes(), nil
}

const dataDogContentType = "application/octet-stream"

// errCrossOrigin is the error of a redirect to another origin: the reader never follows
// one, so a service (or whoever answers for it) cannot send it elsewhere.
var errCrossOrigin = errors.New("redirect to another origin refused")

// sameOriginClient returns a copy of c that follows redirects within the origin of the
// first request only (under c's own redirect policy), restoring the Content-Type header
// that net/http drops on a 301/302/303 hop and the service requires.
func sameOriginClient(c *http.Client) *http.Client {
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("%w: %s to %s://%s", errCrossOrigin, first.Host, req.URL.Scheme, req.URL.Host)
		}
		req.Header.Set("Content-Type", dataDogContentType)
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cc
}
