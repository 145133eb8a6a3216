package payloadsvc

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestCodecsLayer: each namespace gets its own codec, made once and then shared, up to
// maxCachedCodecs; past that a request still gets a codec for its namespace.
func TestCodecsLayer(t *testing.T) {
	base, err := codec.New(memstore.New(), codec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := &codecs{base: base}
	seen := map[string]*codec.Codec{}
	for i, ns := range []string{"orders", "billing", "orders", "billing"} {
		next := &nextHandler{}
		r := httptest.NewRequest("POST", "/codec/"+ns+"/decode", nil)
		if rec, _ := serveLayer(scopeNamespace(cs.wrap(next)), r); rec.Code != statusNext {
			t.Fatalf("%s: status %d %s", ns, rec.Code, rec.Body)
		}
		c := codecFrom(next.got.Context())
		if c == nil || c.Namespace() != ns {
			t.Fatalf("request %d for %s got the codec of %v", i, ns, c)
		}
		if prev, ok := seen[ns]; ok && prev != c {
			t.Errorf("%s: a second codec was made", ns)
		}
		seen[ns] = c
	}
	for i := cs.n.Load(); i < maxCachedCodecs+5; i++ {
		ns := fmt.Sprintf("ns-%d", i)
		if c, err := cs.forNamespace(ns); err != nil || c.Namespace() != ns {
			t.Fatalf("%s: %v, %v", ns, c, err)
		}
	}
	if n := cs.n.Load(); n != maxCachedCodecs {
		t.Errorf("%d codecs cached, want the cap of %d", n, maxCachedCodecs)
	}
}
