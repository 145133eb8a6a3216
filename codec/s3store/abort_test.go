package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// gateReader is a plain reader (no io.ReaderAt, so Put buffers parts) that runs fn
// once when the upload has read up to byte at.
type gateReader struct {
	r    *bytes.Reader
	at   int64
	fn   func()
	once sync.Once
}

func (g *gateReader) Read(p []byte) (int, error) {
	pos := g.r.Size() - int64(g.r.Len())
	if pos >= g.at {
		g.once.Do(g.fn)
	} else if rem := g.at - pos; int64(len(p)) > rem {
		p = p[:rem]
	}
	return g.r.Read(p)
}

func (g *gateReader) Seek(off int64, whence int) (int64, error) { return g.r.Seek(off, whence) }

// TestCancelAbortsUpload cancels a multipart Put while parts are in flight: Put returns
// context.Canceled, the upload is aborted on a fresh context, and no object or parts
// remain (ListMultipartUploads is empty).
func TestCancelAbortsUpload(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const part = 5 << 20
	for _, tc := range []struct {
		name string
		// start returns the source and the proxy hook; both may call cancel.
		start func(b []byte, cancel func()) (io.ReadSeeker, hookFunc)
	}{
		{"WhileReadingSource", func(b []byte, cancel func()) (io.ReadSeeker, hookFunc) {
			return &gateReader{r: bytes.NewReader(b), at: 2*part + 100, fn: cancel}, nil
		}},
		{"WhilePartInFlight", func(b []byte, cancel func()) (io.ReadSeeker, hookFunc) {
			return bytes.NewReader(b), func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "UploadPart" || r.URL.Query().Get("partNumber") != "2" {
					return false
				}
				cancel()
				// Hold the request until the client drops it.
				_, _ = io.Copy(io.Discard, r.Body)
				select {
				case <-r.Context().Done():
				case <-time.After(30 * time.Second):
				}
				return true
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b, key := blob(t, 4*part)
			src, hook := tc.start(b, cancel)
			p := newFaultProxy(t, srv.Endpoint, hook)
			s := newStore(t, srv, p.URL, s3store.Options{PartSize: part, Concurrency: 2, Retry: fastRetry})
			_, err := s.Put(ctx, key, src, int64(len(b)))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put error = %v, want context.Canceled", err)
			}
			check := testenv.Context(t, time.Minute)
			if ups := pendingUploads(t, check, srv); len(ups) != 0 {
				t.Errorf("incomplete multipart uploads left after cancel: %v", ups)
			}
			if h := headObject(t, check, srv, s, key); h != nil {
				t.Errorf("object visible after a cancelled Put")
			}
			if st := s.Stats(); st.Aborts != 1 || st.MultipartUploads != 1 || st.Puts != 0 {
				t.Errorf("Stats() = %+v, want MultipartUploads 1, Aborts 1, Puts 0", st)
			}
		})
	}
}

// TestServerKilledMidUpload kills versitygw while a multipart Put is under way: the Put
// fails within its retry bound, nothing is visible, and after a restart the same Put
// succeeds. The abort cannot reach a dead server, so the upload's parts stay behind
// until the bucket's AbortIncompleteMultipartUpload lifecycle rule removes them
// (OPERATIONS.md); the test shows exactly that one upload.
func TestServerKilledMidUpload(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const part = 5 << 20
	policy := driver.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaxInterval: 500 * time.Millisecond, MaxElapsed: 3 * time.Second}
	s := newStore(t, srv, "", s3store.Options{PartSize: part, Concurrency: 2, Retry: policy})
	ctx := testenv.Context(t, 2*time.Minute)
	b, key := blob(t, 4*part)

	var killedAt time.Time
	src := &gateReader{r: bytes.NewReader(b), at: 2*part + 100, fn: func() {
		srv.Kill()
		killedAt = time.Now()
	}}
	_, err := s.Put(ctx, key, src, int64(len(b)))
	elapsed := time.Since(killedAt)
	if err == nil {
		t.Fatal("Put succeeded with the server killed mid-upload")
	}
	if killedAt.IsZero() {
		t.Fatalf("Put failed before the server was killed: %v", err)
	}
	// One part's retries, then the abort's retries, each bounded by MaxElapsed.
	if bound := 2*policy.MaxElapsed + 5*time.Second; elapsed > bound {
		t.Errorf("Put failed %s after the kill, want within %s", elapsed, bound)
	}
	if !driver.IsPermanent(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put error = %v, want a permanent (retries spent), non-context error", err)
	}
	t.Logf("Put failed %s after the kill: %v", elapsed.Round(time.Millisecond), err)

	if err := srv.Start(ctx); err != nil {
		t.Fatalf("restart versitygw: %v", err)
	}
	if h := headObject(t, ctx, srv, s, key); h != nil {
		t.Fatal("object visible after a failed upload")
	}
	if ups := pendingUploads(t, ctx, srv); len(ups) != 1 {
		t.Errorf("incomplete uploads after the kill: %v, want exactly the one whose abort could not reach the server", ups)
	}
	if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
}

// A part still in flight when the abort ran can land after it: the upload is aborted
// again until ListParts says it is gone. The proxy plays the late part by answering the
// first ListParts with a part listed, as S3 would.
func TestAbortAgainAfterLatePart(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	var listed atomic.Int64
	var p *faultProxy
	p = newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
		switch {
		case op == "UploadPart" && r.URL.Query().Get("partNumber") == "2":
			slowDown(w, r)
			return true
		case op == "AbortMultipartUpload":
			// versitygw may answer an abort that closely follows a part with 500
			// "directory not empty" (S3 takes it; the driver, with no retries here, would
			// give up): the proxy asks again, so the driver sees what S3 would answer.
			p.ForwardUntil(w, r, func(resp *http.Response) bool { return resp.StatusCode == http.StatusInternalServerError }, 10*time.Second)
			return true
		case op == "ListParts" && listed.Add(1) == 1:
			q := r.URL.Query()
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>`+
				`<Part><PartNumber>1</PartNumber><ETag>"x"</ETag><Size>5242880</Size></Part></ListPartsResult>`,
				srv.Bucket, strings.TrimPrefix(r.URL.Path, "/"+srv.Bucket+"/"), q.Get("uploadId"))
			return true
		}
		return false
	})
	s, err := s3store.New(srv.NewClientFor(p.URL), srv.Bucket, s3store.Options{
		Prefix: "late-part", PartSize: 5 << 20, Retry: driver.RetryPolicy{MaxAttempts: 1}, Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Context(t, time.Minute)
	b, key := blob(t, 12<<20)
	if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err == nil {
		t.Fatal("Put succeeded with part 2 failing")
	}
	if got := p.count("AbortMultipartUpload"); got != 2 {
		t.Errorf("AbortMultipartUpload sent %d times, want 2 (again after the late part)", got)
	}
	if got := p.count("ListParts"); got != 2 {
		t.Errorf("ListParts sent %d times, want 2 (parts listed, then NoSuchUpload)", got)
	}
	if ups := pendingUploads(t, ctx, srv); len(ups) != 0 {
		t.Errorf("incomplete multipart uploads left: %v", ups)
	}
	if st := s.Stats(); st.Aborts != 1 {
		t.Errorf("Stats().Aborts = %d, want 1", st.Aborts)
	}
}
