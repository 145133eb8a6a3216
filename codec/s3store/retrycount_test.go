package s3store_test

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// internalError answers like S3 failing on its side: 500 InternalError.
func internalError(w http.ResponseWriter, r *http.Request) {
	testenv.Fail(w, r, http.StatusInternalServerError, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+
		`<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`)
}

// opsSince returns the requests of each operation the proxy saw from index from on.
func (p *faultProxy) opsSince(from int) map[string]int {
	n := map[string]int{}
	for _, op := range p.Ops()[from:] {
		n[op]++
	}
	return n
}

func (p *faultProxy) seen() int { return len(p.Ops()) }

// TestCodecOneRetryLayer counts the S3 requests of a codec over s3store: against a server
// that always answers 500, Encode and Decode each send exactly the store's MaxAttempts
// requests (the codec adds no retries, the error is permanent and names the store); against
// one that fails N times and then works, exactly N+1 of the failing operation and one of
// each other.
func TestCodecOneRetryLayer(t *testing.T) {
	const maxAttempts = 4
	policy := driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxAttempts: maxAttempts}
	data, _ := blob(t, 1<<20)
	in := []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}}
	quiet := slog.New(slog.DiscardHandler)
	// A reference to decode; the same content offloaded to S3 gets the same one.
	writer, err := codec.New(memstore.New(), codec.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := writer.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	newCodec := func(t *testing.T, s *s3store.Store) *codec.Codec {
		c, err := codec.New(s, codec.Options{Namespace: "s3test", CacheBytes: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("always 500", func(t *testing.T) {
		// Every request is answered by the proxy: no S3 server is needed behind it.
		p := newFaultProxy(t, "http://127.0.0.1:1", func(w http.ResponseWriter, r *http.Request, _ string) bool {
			internalError(w, r)
			return true
		})
		cl := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKEXAMPLE", "secret", "")})
		s, err := s3store.New(cl, "bucket", s3store.Options{Retry: policy, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		c := newCodec(t, s)
		for _, op := range []struct {
			name string
			run  func() error
			want map[string]int
		}{
			{"Encode", func() error { _, err := c.Encode(in); return err }, map[string]int{"HeadObject": maxAttempts}},
			{"Decode", func() error { _, err := c.Decode(enc); return err }, map[string]int{"GetObject": maxAttempts}},
		} {
			from := p.seen()
			err := op.run()
			if got := p.opsSince(from); !maps.Equal(got, op.want) {
				t.Errorf("%s: requests %v, want %v", op.name, got, op.want)
			}
			var se *codec.StoreError
			if !errors.As(err, &se) || !driver.IsPermanent(err) {
				t.Errorf("%s: %v, want a permanent *codec.StoreError", op.name, err)
			}
		}
	})

	t.Run("500 N times then works", func(t *testing.T) {
		srv := testenv.S3(t, testenv.S3Options{})
		const n = 2
		var failLeft atomic.Int64
		p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, _ string) bool {
			if failLeft.Add(-1) >= 0 {
				internalError(w, r)
				return true
			}
			return false
		})
		s := newStore(t, srv, p.URL, s3store.Options{Retry: policy, Logger: quiet})
		c := newCodec(t, s)
		enc, err := c.Encode(in) // warm: the object exists from here on
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []struct {
			name string
			run  func() error
			want map[string]int
		}{
			// The object is there: Encode is one HEAD (no refresh, it is young).
			{"Encode", func() error { _, err := c.Encode(in); return err }, map[string]int{"HeadObject": n + 1}},
			{"Decode", func() error { _, err := c.Decode(enc); return err }, map[string]int{"GetObject": n + 1}},
		} {
			failLeft.Store(n)
			from := p.seen()
			if err := op.run(); err != nil {
				t.Errorf("%s after %d failures: %v", op.name, n, err)
			}
			if got := p.opsSince(from); !maps.Equal(got, op.want) {
				t.Errorf("%s: requests %v, want %v", op.name, got, op.want)
			}
		}
		// A new blob: the failures land on the HEAD, then one PutObject.
		fresh := []*commonpb.Payload{{Data: data[:512<<10]}}
		failLeft.Store(n)
		from := p.seen()
		if _, err := c.Encode(fresh); err != nil {
			t.Fatal(err)
		}
		if got, want := p.opsSince(from), map[string]int{"HeadObject": n + 1, "PutObject": 1}; !maps.Equal(got, want) {
			t.Errorf("Encode of a new blob: requests %v, want %v", got, want)
		}
	})
}
