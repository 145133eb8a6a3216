package payloadsvc

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// locateAll is what admission hands the codec server for a decode.
func locateAll(c *codec.Codec, in []*commonpb.Payload) *admitted {
	adm := &admitted{payloads: in, located: make([]located, len(in))}
	for i, p := range in {
		l := &adm.located[i]
		l.loc, l.ok, l.err = c.Locate(p)
	}
	return adm
}

// TestDecodeLocated: the codec server's decode of located payloads answers what
// codec.DecodeContext answers for the same payloads, errors to the letter (the client
// reads them), and returns the payloads themselves when none is a reference.
func TestDecodeLocated(t *testing.T) {
	ctx := context.Background()
	opts := codec.Options{Namespace: "default", Threshold: 1, MaxSize: 1 << 20, Logger: slog.New(slog.DiscardHandler)}
	c, err := codec.New(memstore.New(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var refs []*commonpb.Payload
	for _, v := range []string{"one", strings.Repeat("two", 1000), "three"} {
		ref, err := c.Offload(ctx, jsonPayload(t, v))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	plain := jsonPayload(t, "plain")
	missing := refTo(t, []byte(`"never stored"`))
	tooBig, err := codec.Reference{V: 1, SHA256: strings.Repeat("0", 64), Size: 2 << 20, RawSize: 2 << 20,
		Compression: "none", Encoding: "json/plain"}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   []*commonpb.Payload
	}{
		{"none", []*commonpb.Payload{plain, plain}},
		{"one", []*commonpb.Payload{refs[0]}},
		{"mixed", []*commonpb.Payload{refs[0], plain, refs[1], refs[2]}},
		{"missing blob", []*commonpb.Payload{refs[0], missing, refs[1]}},
		{"refused reference", []*commonpb.Payload{refs[0], plain, tooBig}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := c.DecodeContext(ctx, tc.in)
			got, err := decode(ctx, c, locateAll(c, tc.in))
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("decode: %v, DecodeContext: %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if len(got) != len(want) {
				t.Fatalf("%d payloads, want %d", len(got), len(want))
			}
			for i := range want {
				if !proto.Equal(got[i], want[i]) {
					t.Errorf("payload %d: %v, want %v", i, got[i], want[i])
				}
			}
			if (&got[0] == &tc.in[0]) != (&want[0] == &tc.in[0]) {
				t.Errorf("decode returned its input: %v, DecodeContext: %v", &got[0] == &tc.in[0], &want[0] == &tc.in[0])
			}
		})
	}
}

// BenchmarkDecodeRoute compares, in one run, the codec server's decode of references
// that admission located (each parsed once) with what it did before: Locate to admit,
// then DecodeContext, which parses each again. The blobs are in the codec's cache, so
// the parsing is most of what is measured.
func BenchmarkDecodeRoute(b *testing.B) {
	ctx := context.Background()
	c, err := codec.New(memstore.New(), codec.Options{Namespace: "default", Threshold: 1})
	if err != nil {
		b.Fatal(err)
	}
	var in []*commonpb.Payload
	for i := range 16 {
		ref, err := c.Offload(ctx, jsonPayload(b, strings.Repeat("x", 64<<10+i)))
		if err != nil {
			b.Fatal(err)
		}
		in = append(in, ref)
	}
	b.Run("locate+DecodeContext", func(b *testing.B) {
		for range b.N {
			_ = locateAll(c, in)
			if _, err := c.DecodeContext(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("locate+Fetch", func(b *testing.B) {
		for range b.N {
			if _, err := decode(ctx, c, locateAll(c, in)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
