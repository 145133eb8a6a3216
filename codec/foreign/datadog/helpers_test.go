package datadog_test

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fastRetry keeps the retried cases quick.
var fastRetry = driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

func ddReader(t testing.TB, opts datadog.Options) *datadog.Reader {
	t.Helper()
	r, err := datadog.NewReader(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newCodec(t testing.TB, s driver.Store, opts codec.Options) *codec.Codec {
	t.Helper()
	c, err := codec.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// randomBytes returns n incompressible, reproducible bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	_, _ = r.Read(b)
	return b
}

func payload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
}

func roundTripDecode(t *testing.T, c *codec.Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Decode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, name); !bytes.Equal(got, want) {
		t.Fatalf("%s differs (a format change needs a new version):\n got: %s\nwant: %s", name, got, want)
	}
}
