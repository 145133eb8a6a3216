package azblobstore_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// crc64NVME is Azure's x-ms-content-crc64, computed here by the standard library as a
// check independent of the store's.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// TestRequestsCarryCRC64Only watches every Put Blob and Put Block on the wire: each
// carries the x-ms-content-crc64 of its body and no MD5 (neither Content-MD5 nor
// x-ms-blob-content-md5; Azure refuses a request with both checksums).
func TestRequestsCarryCRC64Only(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name string
		size int
		op   string
		want int
	}{
		{"PutBlob", 600 << 10, "putblob", 1},
		{"PutBlock", 3 << 20, "block", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var mu sync.Mutex
			var problems []string
			fail := func(format string, a ...any) {
				mu.Lock()
				problems = append(problems, fmt.Sprintf(format, a...))
				mu.Unlock()
			}
			p := testenv.NewFaultProxy(t, srv.Endpoint, azOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "putblob" && op != "block" {
					return false
				}
				body, err := io.ReadAll(r.Body)
				if err != nil {
					fail("%s: read body: %v", op, err)
					return false
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				checkHeaders(op, r.Header, body, fail)
				return false
			})
			s := newStore(t, srv, p.URL, azblobstore.Options{PartSize: 1 << 20})
			b, key := blob(t, tc.size)
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := p.Count(tc.op); got != tc.want {
				t.Errorf("%d %s requests, want %d", got, tc.op, tc.want)
			}
			for _, m := range problems {
				t.Error(m)
			}
		})
	}
}

// checkHeaders reports through fail what is wrong with the checksum headers of a
// request with body.
func checkHeaders(op string, h http.Header, body []byte, fail func(string, ...any)) {
	for _, name := range []string{"Content-MD5", "x-ms-blob-content-md5"} {
		if v := h.Get(name); v != "" {
			fail("%s carries %s %q, want none", op, name, v)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(h.Get("x-ms-content-crc64"))
	if err != nil || len(raw) != 8 {
		fail("%s: x-ms-content-crc64 %q is not 8 bytes of base64", op, h.Get("x-ms-content-crc64"))
		return
	}
	if got, want := binary.LittleEndian.Uint64(raw), crc64.Checksum(body, crc64NVME); got != want {
		fail("%s: x-ms-content-crc64 %016x, its body has %016x", op, got, want)
	}
}
