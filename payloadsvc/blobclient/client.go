package blobclient

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// DefaultTimeout bounds one request of a Client when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Options configures a Client. The zero value means the defaults.
type Options struct {
	// Token is sent as "Authorization: Bearer <token>"; empty sends none.
	Token string
	// Timeout bounds one HTTP request with its body (for Get, until the body is
	// closed); default 5 minutes. Retries get a fresh one each.
	Timeout time.Duration
	// Retry is the policy for transient failures (5xx, 408, 429, network errors, a GET
	// body that breaks off, resumed where it stopped); zero value = codec's defaults. 404
	// is codec.ErrNotFound and other 4xx are permanent: neither is retried. Errors left
	// when the retries are spent are codec.Permanent: the Client owns the retries, and no
	// layer above retries them again.
	Retry driver.RetryPolicy
	// HTTPClient replaces the default client: keep-alive, up to 128 idle connections
	// to the service, 2s Expect: 100-continue wait, TLSConfig.
	HTTPClient *http.Client
	// TLSConfig is used by the default client for https URLs; default: system roots.
	TLSConfig *tls.Config
	// Logger receives retries; default slog.Default().
	Logger *slog.Logger
}

// Client is a codec.Store served by a payload service over HTTP, so workers can offload
// without storage credentials of their own. Bodies are streamed both ways; Put sends
// "Expect: 100-continue", so a blob the service already has is not uploaded again. It
// is safe for concurrent use; share one per service.
type Client struct {
	base string // no trailing slash
	opts Options
	hc   *http.Client
}

var _ driver.Store = (*Client)(nil)

// StatusError is an error answer from the service.
type StatusError struct {
	// StatusCode is the HTTP status, e.g. 400.
	StatusCode int
	// Message is the service's description of the problem.
	Message string
}

// Error gives the status and the service's message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// New returns a Client for the service at baseURL, e.g. "https://payloads:8080"
// (a path prefix is kept, for a service behind a proxy).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("blobclient: base URL %q is not http(s)://host[:port][/prefix]", baseURL)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("blobclient: Options.Timeout is negative (%s)", opts.Timeout)
	}
	opts.Timeout = cmp.Or(opts.Timeout, DefaultTimeout)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport(opts.TLSConfig)}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), opts: opts, hc: hc}, nil
}

// newTransport is a keep-alive transport for many concurrent large transfers.
func newTransport(tc *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128 // the default 2 would reconnect constantly under load
	t.IdleConnTimeout = 90 * time.Second
	t.ExpectContinueTimeout = 2 * time.Second
	t.DisableCompression = true // blobs are compressed or random already
	t.WriteBufferSize = 64 << 10
	t.ReadBufferSize = 64 << 10
	if tc != nil {
		t.TLSClientConfig = tc
	}
	return t
}

// String names the client in errors and logs.
func (c *Client) String() string { return "payloadsvc(" + c.base + ")" }

// CloseIdleConnections closes the client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// blobURL maps a key "v1/{ns}/sha256/{hex}" or "v2/{ns}/blake3/{hex}" to its URL
// ".../v1/namespaces/{ns}/blobs/{hash}/{hex}".
func (c *Client) blobURL(key string) (string, error) {
	ns, alg, digest, err := driver.ParseKey(key)
	if err != nil {
		return "", err
	}
	return c.base + "/v1/namespaces/" + url.PathEscape(ns) + "/blobs/" + alg + "/" + digest, nil
}

func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, driver.Permanent(err)
	}
	if c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	req.Header.Set("User-Agent", "longhaul-payloadsvc-client")
	return req, nil
}

func (c *Client) onRetry(op, key string) func(int, error) {
	return func(attempt int, err error) {
		c.opts.Logger.Warn("payloadsvc client: retrying", "op", op, "service", c.base, "key", key, "attempt", attempt, "error", err)
	}
}

// Put uploads size bytes of src under key; the service verifies them against the key's
// digest before storing them. A key the service has already is refreshed, not sent
// (created false). A failed attempt is retried when src can be sent again: it is an
// io.Seeker (rewound to where it stood), or nothing of it was read yet.
func (c *Client) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	u, err := c.blobURL(key)
	if err != nil {
		return false, fmt.Errorf("payloadsvc put: %w", err)
	}
	if size < 0 {
		return false, fmt.Errorf("payloadsvc put %s: %w", key, driver.Permanent(fmt.Errorf("negative size %d", size)))
	}
	up, err := newUpload(src, size)
	if err != nil {
		return false, fmt.Errorf("payloadsvc put %s: %w", key, driver.Permanent(err))
	}
	chain := chainHeader(key, src, size)
	var created bool
	err = driver.Retry(ctx, c.opts.Retry, func(ctx context.Context) error {
		var err error
		created, err = c.putOnce(ctx, u, up, size, chain)
		return err
	}, c.onRetry("put", key))
	if err != nil {
		return false, fmt.Errorf("payloadsvc put %s: %w", key, driver.Permanent(err))
	}
	return created, nil
}

// chainHeader is the SHA-256 chain of a source that offers one (the codec's), so the
// service verifies the body on all its cores; "" when there is none for this size, and
// for a key by another hash (the service verifies BLAKE3 without one, and
// refuses a chain with it).
func chainHeader(key string, src io.Reader, size int64) string {
	ch, ok := src.(driver.SHA256Chainer)
	if _, alg, _, _ := driver.ParseKey(key); !ok || alg != driver.SHA256 {
		return ""
	}
	iv, states := ch.SHA256Chain()
	if c := (sha256chain.Chain{Interval: iv, States: states}); c.Fits(size) {
		return c.Format()
	}
	return ""
}

func (c *Client) putOnce(parent context.Context, u string, up *upload, size int64, chain string) (bool, error) {
	ctx, cancel := context.WithTimeout(parent, c.opts.Timeout)
	defer cancel()
	defer up.close() // after Do: the transport may read a body after it returns
	body, err := up.next()
	if err != nil {
		return false, driver.Permanent(fmt.Errorf("source: %w", err))
	}
	if size == 0 {
		body = http.NoBody
	}
	req, err := c.newRequest(ctx, http.MethodPut, u, body)
	if err != nil {
		return false, err
	}
	req.ContentLength = size
	req.GetBody = up.next // the transport's own retry on a stale keep-alive connection
	req.Header.Set("Content-Type", "application/octet-stream")
	if size > 0 {
		req.Header.Set("Expect", "100-continue")
	}
	if chain != "" {
		req.Header.Set(sha256chain.Header, chain)
	}
	resp, err := c.hc.Do(req)
	up.close()
	if err != nil {
		if srcErr := up.sourceErr(); srcErr != nil {
			return false, driver.Permanent(srcErr) // resending the same source fails the same way
		}
		return false, c.attemptErr(parent, ctx, err)
	}
	defer drainClose(resp.Body)
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusOK:
		return false, nil
	}
	return false, statusErr(resp)
}

// Get streams the blob under key; a missing blob is codec.ErrNotFound. The caller must
// close the reader, which has a Size method when the service sent a Content-Length. A
// body that breaks off is resumed where it stopped (a ranged GET, within the retry
// policy); one that cannot be resumed is an error, never a short read.
func (c *Client) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	u, err := c.blobURL(key)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc get: %w", err)
	}
	b := &getBody{c: c, ctx: ctx, url: u, key: key, size: -1}
	if err := b.open(0); err != nil {
		return nil, fmt.Errorf("payloadsvc get %s: %w", key, driver.Permanent(err))
	}
	return b, nil
}

// Touch reports the blob's size and has the service refresh its age (HEAD).
func (c *Client) Touch(ctx context.Context, key string) (driver.Info, error) {
	u, err := c.blobURL(key)
	if err != nil {
		return driver.Info{}, fmt.Errorf("payloadsvc touch: %w", err)
	}
	var info driver.Info
	err = driver.Retry(ctx, c.opts.Retry, func(parent context.Context) error {
		ctx, cancel := context.WithTimeout(parent, c.opts.Timeout)
		defer cancel()
		req, err := c.newRequest(ctx, http.MethodHead, u, nil)
		if err != nil {
			return err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return c.attemptErr(parent, ctx, err)
		}
		defer drainClose(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return statusErr(resp)
		}
		if resp.ContentLength < 0 {
			return fmt.Errorf("HEAD answer has no Content-Length")
		}
		info = driver.Info{Size: resp.ContentLength}
		if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
			info.ModTime = t
		}
		return nil
	}, c.onRetry("touch", key))
	if err != nil {
		return driver.Info{}, fmt.Errorf("payloadsvc touch %s: %w", key, driver.Permanent(err))
	}
	return info, nil
}

// statusErr turns an error answer into an error: 404 is codec.ErrNotFound, other 4xx
// (but 408 and 429) are permanent, the rest are retried.
func statusErr(resp *http.Response) error {
	msg := ""
	if resp.Request == nil || resp.Request.Method != http.MethodHead {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		var eb struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		} else {
			msg = strings.TrimSpace(string(data))
		}
	}
	if msg == "" {
		msg = "(no message)"
	}
	se := &StatusError{StatusCode: resp.StatusCode, Message: msg}
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: %w", driver.ErrNotFound, se)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return se
	case code >= 400 && code < 500:
		return driver.Permanent(se)
	}
	return se
}

// drainClose reads a little of what is left so the connection can be reused.
func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// attemptErr marks an error caused by the request's own Timeout, not by the caller's
// context: codec.Retry treats context deadlines as final, but a request that hung is
// worth another attempt.
func (c *Client) attemptErr(parent, attempt context.Context, err error) error {
	if attempt.Err() != nil && parent.Err() == nil {
		return fmt.Errorf("%w (%s): %v", ErrRequestTimeout, c.opts.Timeout, err)
	}
	return err
}

// ErrRequestTimeout is returned (wrapped) when one request to the service takes longer
// than Options.Timeout. Unlike the caller's own deadline, it is retried.
var ErrRequestTimeout = errors.New("payloadsvc request timed out")

// errBodyClosed is what a request body reads after the client is done with it.
var errBodyClosed = errors.New("request body closed")
