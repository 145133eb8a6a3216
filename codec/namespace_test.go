package codec_test

import (
	"context"
	"errors"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestNamespaceFromSerializationContext: with zero Options, the codec (as a plain
// PayloadCodec and inside NewDataConverter) keys blobs by the namespace of the
// serialization context; without a context it falls back to Options.Namespace.
func TestNamespaceFromSerializationContext(t *testing.T) {
	big := payload(randomBytes(256<<10+1, 7))
	cases := []struct {
		name   string
		sc     converter.SerializationContext
		wantNS string
	}{
		{"workflow", converter.WorkflowSerializationContext{Namespace: "prod", WorkflowID: "w"}, "prod"},
		{"activity", converter.ActivitySerializationContext{Namespace: "prod-2", WorkflowID: "w"}, "prod-2"},
		{"nexus names none", converter.NexusSerializationContext{Endpoint: "e"}, codec.DefaultNamespace},
		{"no context", nil, codec.DefaultNamespace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"PayloadCodec", "DataConverter"} {
				store := memstore.New()
				c := newCodec(t, store, codec.Options{})
				var ref *commonpb.Payload
				switch via {
				case "PayloadCodec":
					var pc converter.PayloadCodec = c
					if tc.sc != nil {
						pc = c.WithSerializationContext(tc.sc)
					}
					out, err := pc.Encode([]*commonpb.Payload{big})
					if err != nil {
						t.Fatal(err)
					}
					ref = out[0]
				case "DataConverter":
					dc := codec.NewDataConverter(c, nil)
					if tc.sc != nil {
						dc = converter.WithDataConverterSerializationContext(dc, tc.sc)
					}
					p, err := dc.ToPayload(big.Data)
					if err != nil {
						t.Fatal(err)
					}
					ref = p
					var back []byte
					if err := dc.FromPayload(ref, &back); err != nil || len(back) != len(big.Data) {
						t.Fatalf("%s: decode in the same context: %d bytes, %v", via, len(back), err)
					}
				}
				r, err := codec.ParseReference(ref)
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				key, _ := r.Key(tc.wantNS)
				if _, err := store.Touch(context.Background(), key); err != nil {
					t.Errorf("%s: blob not under %s: %v", via, key, err)
				}
				if tc.wantNS != codec.DefaultNamespace {
					other, _ := r.Key(codec.DefaultNamespace)
					if _, err := store.Touch(context.Background(), other); !errors.Is(err, driver.ErrNotFound) {
						t.Errorf("%s: blob also under the fallback namespace (%v)", via, err)
					}
				}
			}
		})
	}
}

// TestNamespaceContextIsCheap: a context naming the codec's own namespace returns the
// codec itself, and the copy for another namespace shares the cache and counters.
func TestNamespaceContextIsCheap(t *testing.T) {
	c := newCodec(t, memstore.New(), codec.Options{Namespace: "prod"})
	if got := c.WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "prod"}); got != converter.PayloadCodec(c) {
		t.Fatal("same namespace: want the codec itself")
	}
	other := c.WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "qa"}).(*codec.Codec)
	if other.Namespace() != "qa" || c.Namespace() != "prod" {
		t.Fatalf("namespaces: copy %q, original %q", other.Namespace(), c.Namespace())
	}
	if _, err := other.Encode([]*commonpb.Payload{payload(randomBytes(256<<10+1, 8))}); err != nil {
		t.Fatal(err)
	}
	if c.Stats().PayloadsOffloaded != 1 {
		t.Fatalf("counters not shared: %+v", c.Stats())
	}
}
