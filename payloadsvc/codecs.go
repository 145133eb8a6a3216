package payloadsvc

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// maxCachedCodecs bounds the per-namespace codecs kept, in case an open service is
// sent many namespaces; past it a codec is made per request (a cheap copy).
const maxCachedCodecs = 1024

// codecs holds one codec per namespace, all sharing the base codec's decode cache.
type codecs struct {
	base *codec.Codec
	m    sync.Map // namespace -> *codec.Codec
	n    atomic.Int64
}

// forNamespace returns the codec for a namespace.
func (cs *codecs) forNamespace(ns string) (*codec.Codec, error) {
	if c, ok := cs.m.Load(ns); ok {
		return c.(*codec.Codec), nil
	}
	c, err := cs.base.WithNamespace(ns)
	if err != nil {
		return nil, err
	}
	if cs.n.Load() >= maxCachedCodecs {
		return c, nil
	}
	actual, loaded := cs.m.LoadOrStore(ns, c)
	if !loaded {
		cs.n.Add(1)
	}
	return actual.(*codec.Codec), nil
}

// wrap puts the codec for the request's namespace (requestInfo's, validated by
// scopeNamespace) into the request's context.
func (cs *codecs) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cs.forNamespace(requestInfoFrom(r.Context()).namespace)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "bad namespace: %v", err)
			return
		}
		next.ServeHTTP(w, withCodec(r, c))
	})
}
