package payloadsvc

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Temporal's codec-server protocol: the body and the answer are protojson
// temporal.api.common.v1.Payloads; the namespace is in the path (the CLI's
// --codec-endpoint .../{namespace}) or in X-Namespace (the UI's way).
var marshalPayloads = protojson.MarshalOptions{}

// requireJSON refuses a codec request that is not application/json, with 415. A browser
// sends a cross-site POST of text/plain or a form without asking (no preflight);
// application/json needs a preflight, which CORS answers.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, r, http.StatusUnsupportedMediaType, "codec requests must have Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// codecServer answers POST .../encode and .../decode with the codec for the request's
// namespace (codecFrom) and the payloads admission read (admittedFrom): the same number
// of payloads in the same order, payloads that are not longhaul references passed
// through untouched.
type codecServer struct {
	fail     *storeFailures
	previews previewPolicy
	links    *links
	stall    time.Duration // Options.WriteStallTimeout
}

func (s *codecServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	c, adm := codecFrom(r.Context()), admittedFrom(r.Context())
	in := adm.payloads
	var out []*commonpb.Payload
	var err error
	if info.rt.name == routeEncode {
		if out, err = c.EncodeContext(r.Context(), in); err != nil {
			s.fail.fail(w, r, "encode", err)
			return
		}
	} else {
		if out, err = decode(r.Context(), c, adm); err != nil {
			s.fail.fail(w, r, "decode", err)
			return
		}
		if limit, on := s.previews.limit(r); on {
			if out, err = s.links.previews(r, limit, info.namespace, adm, out); err != nil {
				logDetail(r, err)
				writeError(w, r, http.StatusInternalServerError, "preview: internal error")
				return
			}
		}
	}
	auditPayloads(r, info.rt.name, in, out)
	s.answer(w, r, out)
}

// answer writes the payloads as the codec server's answer.
func (s *codecServer) answer(w http.ResponseWriter, r *http.Request, out []*commonpb.Payload) {
	body, err := marshalPayloads.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		logDetail(r, err)
		writeError(w, r, http.StatusInternalServerError, "marshal the answer: internal error")
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if err := writeAll(w, body, s.stall); err != nil {
		logDetail(r, fmt.Errorf("client stopped reading the answer: %w", err))
	}
}

// decode is c.DecodeContext for payloads that admission located already: each reference
// is read with codec.Fetch from its Locator, not parsed a second time. Like DecodeContext
// it fails on the first reference the codec refuses, reads with at most
// Options.Concurrency at once, and returns the payloads themselves when none is a
// reference.
func decode(ctx context.Context, c *codec.Codec, adm *admitted) ([]*commonpb.Payload, error) {
	var refs []int
	for i, l := range adm.located {
		if !l.ok {
			continue
		}
		if l.err != nil {
			return nil, fmt.Errorf("codec decode: payload %d: %w", i, l.err)
		}
		refs = append(refs, i)
	}
	if refs == nil {
		return adm.payloads, nil
	}
	out := slices.Clone(adm.payloads)
	err := parallel(ctx, c.Options().Concurrency, refs, func(ctx context.Context, i int) error {
		p, err := c.Fetch(ctx, adm.located[i].loc)
		if err != nil {
			return err
		}
		out[i] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel runs fn for each index with at most n at once, as the codec's decode does:
// the first error cancels the rest and is returned; a panic in a goroutine fails the call
// with codec.ErrPanic (one index runs on the caller's goroutine).
func parallel(ctx context.Context, n int, idx []int, fn func(context.Context, int) error) error {
	if len(idx) == 1 {
		return fn(ctx, idx[0])
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(n, 1))
	errs := make(chan error, len(idx))
	for _, i := range idx {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs <- context.Cause(ctx)
			continue
		}
		go func() {
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					err := fmt.Errorf("%w: %v\n%s", codec.ErrPanic, p, debug.Stack())
					cancel(err)
					errs <- err
				}
			}()
			err := fn(ctx, i)
			if err != nil {
				cancel(err)
			}
			errs <- err
		}()
	}
	var first error
	for range idx {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
