package gcsstore_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// checksumFields are the checksums a JSON API request declares for an object.
type checksumFields struct {
	CRC32C *string `json:"crc32c"`
	MD5    *string `json:"md5Hash"`
}

// uploadChecksums reads a multipart upload (metadata, then media) and returns the
// checksums its metadata declares and the CRC32C of its media.
func uploadChecksums(r *http.Request, body []byte) (checksumFields, uint32, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return checksumFields{}, 0, err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var meta checksumFields
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err != nil {
			return checksumFields{}, 0, fmt.Errorf("part %d: %w", i, err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return checksumFields{}, 0, err
		}
		if i == 0 {
			if err := json.Unmarshal(b, &meta); err != nil {
				return checksumFields{}, 0, fmt.Errorf("metadata: %w", err)
			}
			continue
		}
		return meta, crc32.Checksum(b, castagnoli), nil
	}
}

// TestUploadsCarryCRC32COnly watches every upload and compose on the wire: each
// declares the CRC32C of its bytes (the media's for an upload, the whole's for a
// compose) and no MD5.
func TestUploadsCarryCRC32COnly(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name                 string
		size                 int
		wantUploads, compose int
	}{
		{"Single", 600 << 10, 1, 0},
		{"Composed", 3 << 20, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			b, key := blob(t, tc.size)
			whole := crc32.Checksum(b, castagnoli)
			p := testenv.NewBodyWatch(t, srv.Endpoint, gcsOp, []string{"upload", "compose"},
				func(op string, r *http.Request, body []byte) error { return checkChecksums(op, r, body, whole) })
			s := newStore(t, srv, p.URL, gcsstore.Options{PartSize: 1 << 20})
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := p.Count("upload"); got != tc.wantUploads {
				t.Errorf("%d uploads, want %d", got, tc.wantUploads)
			}
			if got := p.Count("compose"); got != tc.compose {
				t.Errorf("%d composes, want %d", got, tc.compose)
			}
			for _, err := range p.Problems() {
				t.Error(err)
			}
		})
	}
}

// castagnoli is the CRC32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkChecksums returns what is wrong with the checksums of an upload or compose
// request; whole is the CRC32C of the blob, which the final compose declares.
func checkChecksums(op string, r *http.Request, body []byte, whole uint32) error {
	var sums checksumFields
	var want uint32
	switch op {
	case "upload":
		var err error
		if sums, want, err = uploadChecksums(r, body); err != nil {
			return err
		}
	case "compose":
		var req struct{ Destination checksumFields }
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		sums, want = req.Destination, whole
	}
	var errs []error
	if sums.MD5 != nil {
		errs = append(errs, fmt.Errorf("declares md5Hash %q, want none", *sums.MD5))
	}
	if sums.CRC32C == nil {
		return errors.Join(append(errs, errors.New("declares no crc32c"))...)
	}
	raw, err := base64.StdEncoding.DecodeString(*sums.CRC32C)
	if err != nil || len(raw) != 4 {
		return errors.Join(append(errs, fmt.Errorf("crc32c %q is not 4 bytes of base64", *sums.CRC32C))...)
	}
	if got := binary.BigEndian.Uint32(raw); got != want {
		errs = append(errs, fmt.Errorf("declares crc32c %08x, want %08x", got, want))
	}
	return errors.Join(errs...)
}
