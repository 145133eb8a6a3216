package azblobstore_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"net/http"
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
			p := testenv.NewBodyWatch(t, srv.Endpoint, azOp, []string{"putblob", "block"}, checkHeaders)
			s := newStore(t, srv, p.URL, azblobstore.Options{PartSize: 1 << 20})
			b, key := blob(t, tc.size)
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := p.Count(tc.op); got != tc.want {
				t.Errorf("%d %s requests, want %d", got, tc.op, tc.want)
			}
			for _, err := range p.Problems() {
				t.Error(err)
			}
		})
	}
}

// checkHeaders returns what is wrong with the checksum headers of a request with body.
func checkHeaders(_ string, r *http.Request, body []byte) error {
	var errs []error
	for _, name := range []string{"Content-MD5", "x-ms-blob-content-md5"} {
		if v := r.Header.Get(name); v != "" {
			errs = append(errs, fmt.Errorf("carries %s %q, want none", name, v))
		}
	}
	h := r.Header.Get("x-ms-content-crc64")
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(raw) != 8 {
		return errors.Join(append(errs, fmt.Errorf("x-ms-content-crc64 %q is not 8 bytes of base64", h))...)
	}
	if got, want := binary.LittleEndian.Uint64(raw), crc64.Checksum(body, crc64NVME); got != want {
		errs = append(errs, fmt.Errorf("x-ms-content-crc64 %016x, its body has %016x", got, want))
	}
	return errors.Join(errs...)
}
