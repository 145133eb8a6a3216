package payloadsvc

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Temporal's codec-server protocol: the body and the answer are protojson
// temporal.api.common.v1.Payloads; the namespace is in the path (the CLI's
// --codec-endpoint .../{namespace}) or in X-Namespace (the UI's way).
var (
	// DiscardUnknown: newer clients may send fields this build does not know.
	unmarshalPayloads = protojson.UnmarshalOptions{DiscardUnknown: true}
	marshalPayloads   = protojson.MarshalOptions{}
)

// serveCodec answers POST .../encode and .../decode with a codec for the request's
// namespace: the same number of payloads in the same order, payloads that are not
// longhaul references passed through untouched.
func (h *handler) serveCodec(w http.ResponseWriter, r *http.Request, rt route) {
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
	in, ok := h.readPayloads(w, r)
	if !ok {
		return
	}
	c, err := h.codecFor(ns)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad namespace: %v", err)
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
		if out, err = h.previews(r, ns, in, out); err != nil {
			writeError(w, r, http.StatusInternalServerError, "preview: %v", err)
			return
		}
	}
	body, err := marshalPayloads.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "marshal the answer: %v", err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// readPayloads reads a codec request body within the cap; it answers errors itself.
func (h *handler) readPayloads(w http.ResponseWriter, r *http.Request) ([]*commonpb.Payload, bool) {
	max := h.opts.MaxCodecBodyBytes
	if r.ContentLength > max {
		writeError(w, r, http.StatusRequestEntityTooLarge, "request body of %d bytes is over the %d-byte limit", r.ContentLength, max)
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, http.StatusRequestEntityTooLarge, "request body is over the %d-byte limit", max)
		} else {
			writeError(w, r, http.StatusBadRequest, "reading the request body: %v", err)
		}
		return nil, false
	}
	ps, err := parsePayloads(data)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "%v", err)
		// The parser quotes the body, which may be payload data: keep it out of the log.
		requestInfoFrom(r.Context()).errMsg = "malformed request body (details in the response only)"
		return nil, false
	}
	return ps, true
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
