package blobclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// getBody is a Client's blob download. A body that breaks off is resumed from the byte
// where it stopped with a ranged GET (the service answers 206, or 200 and the bytes
// already read are skipped), under the Client's retry policy; the caller sees either the
// whole blob or an error.
type getBody struct {
	c      *Client
	ctx    context.Context
	url    string
	key    string
	size   int64 // -1: unknown
	pos    int64
	stalls int

	body   io.ReadCloser
	cancel context.CancelFunc
	err    error // sticky
	chain  sha256chain.Chain
}

// Size returns the blob's length from the service's Content-Length, or -1 (codec.Sizer).
func (b *getBody) Size() int64 { return b.size }

// SHA256Chain returns the blob's SHA-256 chain when the service sent one that fits its
// size (codec.SHA256Chainer): the codec then verifies the blob on all cores. It is the
// service's claim; the codec still proves the bytes against the key.
func (b *getBody) SHA256Chain() (int64, [][]byte) { return b.chain.Interval, b.chain.States }

// open starts a GET at offset off, retried under the policy.
func (b *getBody) open(off int64) error {
	return driver.Retry(b.ctx, b.c.opts.Retry, func(ctx context.Context) error {
		return b.openOnce(ctx, off)
	}, b.c.onRetry("get", b.key))
}

func (b *getBody) openOnce(ctx context.Context, off int64) error {
	actx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	req, err := b.c.newRequest(actx, http.MethodGet, b.url, nil)
	if err != nil {
		cancel()
		return err
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := b.c.hc.Do(req)
	if err != nil {
		cancel()
		return b.c.attemptErr(ctx, actx, err)
	}
	skip := int64(0)
	switch {
	case resp.StatusCode == http.StatusOK:
		skip = off // no range support: read past what we have
		if b.size < 0 && resp.ContentLength >= 0 {
			b.size = resp.ContentLength
			if v := resp.Header.Get(sha256chain.Header); v != "" {
				b.chain, _ = sha256chain.Parse(v, b.size) // malformed: none, verified serially
			}
		}
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		if got, _, ok := parseRangeStart(resp.Header.Get("Content-Range")); !ok || got != off {
			drainClose(resp.Body)
			cancel()
			return driver.Permanent(fmt.Errorf("resume at byte %d: service answered range %q", off, resp.Header.Get("Content-Range")))
		}
	default:
		defer cancel()
		defer drainClose(resp.Body)
		return statusErr(resp)
	}
	if skip > 0 {
		if n, err := io.CopyN(io.Discard, resp.Body, skip); err != nil {
			drainClose(resp.Body)
			cancel()
			return fmt.Errorf("resume at byte %d: skipped %d bytes: %w", off, n, err)
		}
	}
	b.body, b.cancel = resp.Body, cancel
	return nil
}

// parseRangeStart reads the first byte of "bytes first-last/size".
func parseRangeStart(v string) (first int64, size string, ok bool) {
	var last int64
	if _, err := fmt.Sscanf(v, "bytes %d-%d/%s", &first, &last, &size); err != nil {
		return 0, "", false
	}
	return first, size, true
}

// maxStalls bounds resumes in a row that brought no byte.
const maxStalls = 3

func (b *getBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	b.pos += int64(n)
	if n > 0 {
		b.stalls = 0
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF && (b.size < 0 || b.pos == b.size):
		return n, io.EOF
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	// The body broke off: resume where it stopped, unless the caller is done.
	b.closeBody()
	if b.ctx.Err() != nil {
		b.err = b.ctx.Err()
		return n, b.err
	}
	if b.stalls++; b.stalls > maxStalls {
		b.err = driver.Permanent(fmt.Errorf("download of %s broke off %d times at byte %d: %w", b.key, b.stalls, b.pos, err))
		return n, b.err
	}
	b.c.opts.Logger.Warn("payloadsvc client: download broke off; resuming", "service", b.c.base, "key", b.key, "at", b.pos, "error", err)
	if rerr := b.open(b.pos); rerr != nil {
		b.err = driver.Permanent(fmt.Errorf("resume after %w: %w", err, rerr))
		return n, b.err
	}
	return n, nil
}

func (b *getBody) closeBody() {
	if b.body != nil {
		b.body.Close()
		b.cancel()
		b.body = nil
	}
}

// Close releases the download.
func (b *getBody) Close() error {
	b.closeBody()
	if b.err == nil {
		b.err = errBodyClosed
	}
	return nil
}
