package payloadsvc

import (
	"context"
	"net/http"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// What the layers of the stack hand down to the ones below them travels in the
// request's context: the request's record (requestInfo, which the access log reads
// back once the request is done), the codec for its namespace, and the payloads that
// admission read and located. No layer calls back into another. The access log puts the
// requestInfo there first, so every layer below it may rely on it.

// requestInfo collects what the access log, the metrics and the audit line report about
// one request; the layers below fill in route, namespace and caller as they learn them.
type requestInfo struct {
	id        string
	route     string // the route as logged: rt.name, or "preflight"
	rt        route  // the parsed path, for the layers that dispatch on it
	namespace string
	errMsg    string

	subject, authMethod string // whom the Authorizer admitted, for the audit line
	payloads            int
	payloadBytes        int64
}

type (
	infoKey     struct{}
	codecKey    struct{}
	admittedKey struct{}
)

func withRequestInfo(r *http.Request, info *requestInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// requestID returns the request's id, for logs.
func requestID(r *http.Request) string {
	if info := requestInfoFrom(r.Context()); info != nil {
		return info.id
	}
	return ""
}

func withCodec(r *http.Request, c *codec.Codec) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), codecKey{}, c))
}

// codecFrom is the codec for the request's namespace, put there by the codecs layer.
func codecFrom(ctx context.Context) *codec.Codec {
	c, _ := ctx.Value(codecKey{}).(*codec.Codec)
	return c
}

// admitted is a codec request's body as admission read, counted and located it.
type admitted struct {
	payloads []*commonpb.Payload
	// located holds, for a decode, what codec.Locate said of each payload, so the
	// decode and its previews do not parse a reference again.
	located []located
}

// located is one payload's codec.Locate result.
type located struct {
	loc codec.Locator
	ok  bool // a reference of a kind the codec reads
	err error
}

func withAdmitted(r *http.Request, a *admitted) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), admittedKey{}, a))
}

func admittedFrom(ctx context.Context) *admitted {
	a, _ := ctx.Value(admittedKey{}).(*admitted)
	return a
}
