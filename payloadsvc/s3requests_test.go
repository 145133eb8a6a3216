package payloadsvc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// tally counts requests by name, safe for concurrent use.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[name]++
}

// take returns the counts so far and starts again from zero.
func (t *tally) take() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.n
	t.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}

// countS3 counts every S3 request the client sends (each attempt, by operation name):
// a middleware at the end of the finalize step, after signing, just before the wire.
func (t *tally) countS3(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("longhaulCountRequests",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				t.add(awsmiddleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// countHTTP serves h, counting requests by method.
func (t *tally) countHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.add(r.Method)
		h.ServeHTTP(w, r)
	})
}

func wantCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: requests %v, want %v", what, got, want)
	}
}

// TestS3RequestsPerBlob counts what one new 32 MiB blob costs through the whole path
// Client -> service -> s3store -> S3 (versitygw), with 16 MiB parts: the minimum the
// protocol needs, one existence check end to end (HEAD, create, two parts, complete) and
// one HTTP PUT; a second Put of the same blob costs one HEAD and sends no body.
//
// Before issue 11 (commit f7a10e0, the same test adapted to the old API): Client.Put of a
// new 32 MiB blob sent 6 S3 requests (2 HEAD: the service's Touch, then s3store's), after
// spooling the body to a temporary file; a codec Encode of a 32 MiB payload sent an HTTP
// HEAD and a PUT and 8 S3 requests (3 HEAD, 3 parts: the 31 bytes of framing over 32 MiB
// were a part of their own, and a third GET on Decode). Now: 5 and 5, one HTTP PUT.
func TestS3RequestsPerBlob(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	var s3n, httpn tally
	store, err := s3store.New(srv.NewClient(s3n.countS3), srv.Bucket, s3store.Options{PartSize: 16 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, store, Options{})
	front := httptest.NewServer(httpn.countHTTP(svc.h))
	t.Cleanup(front.Close)
	c, err := blobclient.New(front.URL, blobclient.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	ctx := testCtx(t, 2*time.Minute)

	t.Run("Client.Put", func(t *testing.T) {
		b, digest := randomBlob(t, 32<<20)
		key, _ := driver.Key("default", driver.SHA256, digest)
		s3n.take()
		httpn.take()
		if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
			t.Fatalf("first Put = %v, %v; want created", created, err)
		}
		wantCounts(t, "new 32 MiB blob, S3", s3n.take(), map[string]int{"HeadObject": 1, "CreateMultipartUpload": 1, "UploadPart": 2, "CompleteMultipartUpload": 1})
		wantCounts(t, "new 32 MiB blob, service", httpn.take(), map[string]int{"PUT": 1})
		before := svc.wire.n.Load()
		if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
			t.Fatalf("second Put = %v, %v; want not created", created, err)
		}
		wantCounts(t, "same blob again, S3", s3n.take(), map[string]int{"HeadObject": 1})
		wantCounts(t, "same blob again, service", httpn.take(), map[string]int{"PUT": 1})
		if n := svc.wire.n.Load() - before; n > 4<<10 {
			t.Errorf("second Put: the service read %d bytes, want headers only (no body)", n)
		}
		storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b)
		wantCounts(t, "Get, S3", s3n.take(), map[string]int{"GetObject": 2}) // two 16 MiB ranges
		wantCounts(t, "Get, service", httpn.take(), map[string]int{"GET": 1})
	})

	t.Run("codec round trip", func(t *testing.T) {
		cd, err := codec.New(c, codec.Options{CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := randomBlob(t, 32<<20)
		in := []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}}
		s3n.take()
		httpn.take()
		enc, err := cd.Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := codec.ParseReference(enc[0])
		if err != nil {
			t.Fatal(err)
		}
		// 32 MiB and a few bytes of framing: two parts, the last taking the tail.
		const parts = 2
		wantCounts(t, fmt.Sprintf("Encode (%d-byte blob), S3", ref.Size), s3n.take(),
			map[string]int{"HeadObject": 1, "CreateMultipartUpload": 1, "UploadPart": parts, "CompleteMultipartUpload": 1})
		wantCounts(t, "Encode, service", httpn.take(), map[string]int{"PUT": 1})
		if _, err := cd.Encode(in); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "Encode again, S3", s3n.take(), map[string]int{"HeadObject": 1})
		wantCounts(t, "Encode again, service", httpn.take(), map[string]int{"PUT": 1})
		dec, err := cd.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dec[0].Data, data) {
			t.Fatal("decoded data differs")
		}
		wantCounts(t, "Decode, S3", s3n.take(), map[string]int{"GetObject": parts})
		wantCounts(t, "Decode, service", httpn.take(), map[string]int{"GET": 1})
	})

	t.Run("16 MiB payload is one PutObject", func(t *testing.T) {
		// 16 MiB of data and its framing: within PartSize and its tail, so no multipart.
		cd, err := codec.New(c, codec.Options{CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := randomBlob(t, 16<<20)
		s3n.take()
		enc, err := cd.Encode([]*commonpb.Payload{{Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "Encode, S3", s3n.take(), map[string]int{"HeadObject": 1, "PutObject": 1})
		if _, err := cd.Decode(enc); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "Decode, S3", s3n.take(), map[string]int{"GetObject": 1})
	})
}
