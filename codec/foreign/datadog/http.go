package datadog

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// sizedBody is an HTTP body that tells its Content-Length (-1: unknown), a driver.Sizer.
type sizedBody struct {
	io.ReadCloser
	size int64
}

func (b sizedBody) Size() int64 { return b.size }

// errCrossOrigin: the service redirected to another origin. History names the service,
// not where it sends us: such a redirect is never followed.
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
		req.Header.Set("Content-Type", contentType) // net/http drops it on 301/302/303
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
