package s3store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// onlyReader hides every method but Read and Seek, so Put must buffer parts.
type onlyReader struct{ io.ReadSeeker }

// TestMultipartUpload: an object over PartSize is a multipart upload of the expected
// part count (ETag "...-N"), whose parts S3 checksummed with SHA-256 (the composite
// checksum is the SHA-256 of the part SHA-256s), from an io.ReaderAt source read in
// place and from a plain reader buffered part by part; an object of exactly PartSize is
// one PutObject. A remainder of up to PartSize/16 rides with the last part (a codec blob
// is a payload plus a few bytes), so it costs no request of its own.
func TestMultipartUpload(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const part = 5 << 20
	for _, tc := range []struct {
		name      string
		size      int
		readerAt  bool
		wantParts int // 0: single PutObject
	}{
		{"ReaderAt", 3*part + part/2, true, 4},
		{"Buffered", 3*part + part/2, false, 4},
		{"ExactlyOnePart", part, true, 0},
		{"LastPartFull", 2 * part, false, 2},
		{"OnePartAndTail", part + part/16, false, 0},
		{"TailWithLastPart", 3*part + 31, true, 3},
		{"TailWithLastPartBuffered", 3*part + part/16, false, 3},
		{"TailOverSlack", 3*part + part/16 + 1, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			s := newStore(t, srv, "", s3store.Options{PartSize: part, Concurrency: 3})
			b, key := blob(t, tc.size)
			var src io.ReadSeeker = bytes.NewReader(b)
			if !tc.readerAt {
				src = onlyReader{src}
			}
			if _, err := s.Put(ctx, key, src, int64(len(b))); err != nil {
				t.Fatal(err)
			}
			okey, _ := s.ObjectKey(key)
			h, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{
				Bucket: aws.String(srv.Bucket), Key: aws.String(okey), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			etag := strings.Trim(aws.ToString(h.ETag), `"`)
			t.Logf("ETag %s, ChecksumSHA256 %s, ChecksumType %s", etag, aws.ToString(h.ChecksumSHA256), h.ChecksumType)
			st := s.Stats()
			if tc.wantParts == 0 {
				if strings.Contains(etag, "-") || st.MultipartUploads != 0 {
					t.Errorf("ETag %s, MultipartUploads %d: want a single PutObject", etag, st.MultipartUploads)
				}
				want := sha256.Sum256(b)
				if got := aws.ToString(h.ChecksumSHA256); got != base64.StdEncoding.EncodeToString(want[:]) {
					t.Errorf("ChecksumSHA256 = %q, want the object's SHA-256", got)
				}
			} else {
				if want := fmt.Sprintf("-%d", tc.wantParts); !strings.HasSuffix(etag, want) || st.MultipartUploads != 1 {
					t.Errorf("ETag %s, MultipartUploads %d: want a multipart upload of %d parts", etag, st.MultipartUploads, tc.wantParts)
				}
				if got, want := aws.ToString(h.ChecksumSHA256), compositeSHA256(b, part, tc.wantParts); got != want {
					t.Errorf("ChecksumSHA256 = %q, want composite %q", got, want)
				}
			}
			if st.Puts != 1 || st.BytesUp != int64(len(b)) || st.Aborts != 0 {
				t.Errorf("Stats() = %+v, want Puts 1, BytesUp %d, Aborts 0", st, len(b))
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		})
	}
}

// compositeSHA256 is S3's checksum of a multipart object of n parts of part bytes (the
// last one takes the rest): the SHA-256 of the parts' SHA-256s, base64, with "-N".
func compositeSHA256(b []byte, part, n int) string {
	h := sha256.New()
	for i := range n {
		end := (i + 1) * part
		if i == n-1 {
			end = len(b)
		}
		sum := sha256.Sum256(b[i*part : end])
		h.Write(sum[:])
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), n)
}
