package s3store_test

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestWriteHeaders: the SSE mode, KMS key and storage class go on every request that
// creates an object: PutObject, CreateMultipartUpload (uploads, multipart copies) and
// CopyObject (refresh). versitygw accepts and ignores them; the proxy records them.
func TestWriteHeaders(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const kmsKey = "arn:aws:kms:us-east-1:111122223333:key/test"
	for _, tc := range []struct {
		name     string
		opts     s3store.Options
		sse, kms string
		class    string
	}{
		{"SSE-S3", s3store.Options{ServerSideEncryption: types.ServerSideEncryptionAes256}, "AES256", "", ""},
		{"SSE-KMS", s3store.Options{KMSKeyID: kmsKey, StorageClass: types.StorageClassStandardIa}, "aws:kms", kmsKey, "STANDARD_IA"},
		{"BucketDefaults", s3store.Options{}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
				switch op {
				case "PutObject", "CreateMultipartUpload", "CopyObject":
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, op)
					h := r.Header
					if h.Get("X-Amz-Server-Side-Encryption") != tc.sse ||
						h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != tc.kms ||
						h.Get("X-Amz-Storage-Class") != tc.class {
						t.Errorf("%s: sse %q, kms key %q, class %q; want %q, %q, %q", op,
							h.Get("X-Amz-Server-Side-Encryption"), h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"),
							h.Get("X-Amz-Storage-Class"), tc.sse, tc.kms, tc.class)
					}
				}
				return false
			})
			opts := tc.opts
			opts.PartSize, opts.TouchAfter = 5<<20, time.Second
			s := newStore(t, srv, p.URL, opts)
			ctx := testenv.Context(t, time.Minute)
			var last string
			for _, size := range []int{1 << 10, 6 << 20} {
				b, key := blob(t, size)
				if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
					t.Fatal(err)
				}
				last = key
			}
			// Refresh the last object: CopyObject, then (versitygw) a multipart copy.
			waitPast(aws.ToTime(headObject(t, ctx, srv, s, last).LastModified).Add(time.Second + 50*time.Millisecond))
			if _, err := s.Touch(ctx, last); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("object-creating requests: %v", seen)
			for _, op := range []string{"PutObject", "CreateMultipartUpload", "CopyObject"} {
				if !slices.Contains(seen, op) {
					t.Errorf("no %s request seen", op)
				}
			}
		})
	}
}
