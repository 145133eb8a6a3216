package payloadsvc

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Temporal's codec-server protocol: the body and the answer are protojson
// temporal.api.common.v1.Payloads; the namespace is in the path (the CLI's
// --codec-endpoint .../{namespace}) or in X-Namespace (the UI's way).
var (
	// DiscardUnknown: newer clients may send fields this build does not know.
	unmarshalPayloads = protojson.UnmarshalOptions{DiscardUnknown: true}
	marshalPayloads   = protojson.MarshalOptions{}
)

// valuesPerPayload bounds the JSON values (metadata entries and the like) a codec
// request may hold per payload it is allowed, so one payload's metadata map cannot
// balloon either.
const valuesPerPayload = 64

// serveCodec answers POST .../encode and .../decode with a codec for the request's
// namespace: the same number of payloads in the same order, payloads that are not
// longhaul references passed through untouched.
func (h *handler) serveCodec(w http.ResponseWriter, r *http.Request, rt route) {
	// A browser sends a cross-site POST of text/plain or a form without asking (no
	// preflight); application/json needs a preflight, which CORS answers.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, r, http.StatusUnsupportedMediaType, "codec requests must have Content-Type: application/json")
		return
	}
	ns := rt.namespace
	if !rt.hasNS {
		ns = r.Header.Get("X-Namespace")
		if ns == "" {
			writeError(w, r, http.StatusBadRequest, "bad namespace: none given (send X-Namespace or use /codec/{namespace}/%s)", rt.name)
			return
		}
	}
	if !h.namespaceFor(w, r, ns) {
		return
	}
	c, err := h.codecFor(ns)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad namespace: %v", err)
		return
	}
	res := &reservation{b: h.inflight}
	defer res.release()
	in, ok := h.readPayloads(w, r, res)
	if !ok {
		return
	}
	if !h.admit(w, r, c, rt.name, in, res) {
		return
	}
	var out []*commonpb.Payload
	if rt.name == routeEncode {
		if out, err = c.EncodeContext(r.Context(), in); err != nil {
			h.storeFailure(w, r, "encode", err)
			return
		}
	} else {
		if out, err = c.DecodeContext(r.Context(), in); err != nil {
			h.storeFailure(w, r, "decode", err)
			return
		}
		if out, err = h.previews(r, c, ns, in, out); err != nil {
			logDetail(r, err)
			writeError(w, r, http.StatusInternalServerError, "preview: internal error")
			return
		}
	}
	auditPayloads(r, rt.name, in, out)
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
	if err := h.writeAll(w, body); err != nil {
		logDetail(r, fmt.Errorf("client stopped reading the answer: %w", err))
	}
}

// readPayloads reads a codec request body within the caps, reserving it from the
// in-flight budget, counts its payloads before it builds any, and parses it; it
// answers errors itself.
func (h *handler) readPayloads(w http.ResponseWriter, r *http.Request, res *reservation) ([]*commonpb.Payload, bool) {
	limit := h.opts.MaxCodecBodyBytes
	if r.ContentLength > limit {
		writeError(w, r, http.StatusRequestEntityTooLarge, "request body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
		return nil, false
	}
	// The buffer grows with the bytes that arrive (Content-Length is only a claim), and
	// each step is reserved from the budget before it is read into.
	data, err := io.ReadAll(&reservingReader{r: http.MaxBytesReader(w, r.Body, limit), res: res})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, http.StatusRequestEntityTooLarge, "request body is over the %d-byte limit", limit)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			writeError(w, r, http.StatusRequestTimeout, "the request body did not arrive within %s", h.opts.BodyReadTimeout)
		} else if !h.refuse(w, r, err) {
			writeError(w, r, http.StatusBadRequest, "reading the request body failed")
		}
		return nil, false
	}
	maxPayloads := h.opts.MaxPayloadsPerRequest
	shape := scanPayloads(data, maxPayloads, maxPayloads*valuesPerPayload)
	switch {
	case shape.payloads > maxPayloads:
		writeError(w, r, http.StatusRequestEntityTooLarge, "request has over %d payloads, the limit per request (--max-payloads-per-request)", maxPayloads)
		return nil, false
	case shape.values > maxPayloads*valuesPerPayload:
		writeError(w, r, http.StatusRequestEntityTooLarge, "request has over %d JSON values, the limit per request (%d per payload allowed)", maxPayloads*valuesPerPayload, valuesPerPayload)
		return nil, false
	}
	if h.refuse(w, r, res.add("parsing the request", int64(shape.values+shape.payloads)*parseCostPerValue)) {
		return nil, false
	}
	ps, err := parsePayloads(data)
	if err != nil {
		// The parser quotes the body, which may be payload data: keep it out of the log.
		writeErrorLogged(w, r, http.StatusBadRequest, err.Error(), "malformed request body (details in the response only)")
		return nil, false
	}
	for i, p := range ps {
		if err := codec.CheckMetadata(p.GetMetadata()); err != nil { // the caps stored blobs have too
			writeError(w, r, http.StatusRequestEntityTooLarge, "payload %d: %v", i, err)
			return nil, false
		}
	}
	return ps, true
}

// admit reserves the bytes the codec will hold for the payloads: for encode, their
// serialized size (each must fit MaxBlobBytes, since it may become a blob); for decode,
// what each reference of any kind may hold once bounded (Locator.Bound: stored and
// decompressed bytes), and its answer. A claim is only ever a reason to refuse, never a
// size to allocate.
func (h *handler) admit(w http.ResponseWriter, r *http.Request, c *codec.Codec, op string, in []*commonpb.Payload, res *reservation) bool {
	_, previews := h.previewLimit(r)
	var need int64
	for i, p := range in {
		if op == routeEncode {
			n := int64(proto.Size(p))
			if n > h.opts.MaxBlobBytes && !codec.IsReference(p) {
				writeError(w, r, http.StatusRequestEntityTooLarge, "payload %d is %d bytes serialized, over the %d-byte blob limit (--max-blob-bytes)", i, n, h.opts.MaxBlobBytes)
				return false
			}
			need = satAdd(need, n)
			continue
		}
		// A reference the codec refuses (ErrInvalidReference) is refused before any read.
		if loc, ok, err := c.Locate(p); ok && err == nil {
			need = satAdd(need, decodeCost(loc, previews))
		}
	}
	return !h.refuse(w, r, res.add(op+" payloads", need))
}

// decodeCost is what decoding one reference may hold: its bounded stored and
// decompressed bytes and, unless previews are on, the answer's base64 of its data.
func decodeCost(loc codec.Locator, previews bool) int64 {
	n := loc.Bound()
	if !previews {
		n = satAdd(n, loc.RawSize/3*4+4)
	}
	return n
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}

// refuse answers an admission error (413 or 503 with Retry-After) and reports whether
// there was one.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, err error) bool {
	var tooLarge *tooLargeError
	switch {
	case err == nil:
		return false
	case errors.As(err, &tooLarge):
		writeError(w, r, http.StatusRequestEntityTooLarge, "%v", tooLarge)
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "%v: retry later", errBusy)
	default:
		return false
	}
	return true
}

// parsePayloads reads a codec request body: protojson Payloads, unknown fields ignored.
func parsePayloads(data []byte) ([]*commonpb.Payload, error) {
	var ps commonpb.Payloads
	if err := unmarshalPayloads.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("malformed request body: want protojson temporal.api.common.v1.Payloads: %v", err)
	}
	for i, p := range ps.Payloads {
		if p == nil {
			return nil, fmt.Errorf("malformed request body: payload %d is null", i)
		}
	}
	return ps.Payloads, nil
}
