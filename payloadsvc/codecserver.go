package payloadsvc

import (
	"context"
	"fmt"
	"mime"
	"net/http"
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

// decode decodes the admitted payloads: each reference admission located is read with
// Codec.DecodeLocated from its Locator, not parsed a second time; a reference admission
// could not parse fails the call as DecodeContext would.
func decode(ctx context.Context, c *codec.Codec, adm *admitted) ([]*commonpb.Payload, error) {
	var locs []codec.Locator
	for i, l := range adm.located {
		if !l.ok {
			continue
		}
		if l.err != nil {
			return nil, fmt.Errorf("codec decode: payload %d: %w", i, l.err)
		}
		if locs == nil {
			locs = make([]codec.Locator, len(adm.payloads))
		}
		locs[i] = l.loc
	}
	return c.DecodeLocated(ctx, adm.payloads, locs)
}
