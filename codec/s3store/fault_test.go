package s3store_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// fastRetry keeps fault tests quick: millisecond backoffs, bounded by time.
var fastRetry = driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsed: 10 * time.Second}

// faultDriver describes s3store on srv to the shared fault suite.
func faultDriver(srv *testenv.S3Server) drivertest.Driver {
	return drivertest.Driver{
		Endpoint: srv.Endpoint,
		Op:       s3Op,
		NewStore: func(t testing.TB, endpoint string, o drivertest.Options) drivertest.Store {
			s := newStore(t, srv, endpoint, s3store.Options{Prefix: o.Prefix, PartSize: o.PartSize,
				Concurrency: o.Concurrency, Retry: o.Retry, AttemptTimeout: o.AttemptTimeout})
			return drivertest.Store{Store: s, Stats: func() drivertest.Stats {
				st := s.Stats()
				return drivertest.Stats{Puts: st.Puts, Retries: st.Retries, BytesUp: st.BytesUp, BytesDown: st.BytesDown}
			}}
		},
		Retry:    fastRetry,
		Busy:     slowDown,
		BusyName: "SlowDown",
		Forbidden: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		},
		PartSize: 5 << 20,
		PartOp:   "UploadPart",
		RetryCases: []drivertest.RetryCase{
			{Name: "AnyRequestSinglePut", Op: "", Size: 1 << 20, WantParts: 0},
			{Name: "HeadObject", Op: "HeadObject", Size: 1 << 20, WantParts: 0},
			{Name: "PutObject", Op: "PutObject", Size: 1 << 20, WantParts: 0},
			{Name: "UploadPart", Op: "UploadPart", Size: 12 << 20, WantParts: 3},
			{Name: "CreateMultipartUpload", Op: "CreateMultipartUpload", Size: 12 << 20, WantParts: 3},
			{Name: "CompleteMultipartUpload", Op: "CompleteMultipartUpload", Size: 12 << 20, WantParts: 3},
		},
	}
}

// TestRetryOnSlowDown answers the first N requests of one kind with 503 SlowDown
// (drivertest.RetryOn5xx), and the first N range reads of a Get: each operation
// succeeds, and the store counts exactly N retries.
func TestRetryOnSlowDown(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const n = 3
	drivertest.RetryOn5xx(t, faultDriver(srv))

	t.Run("GetRanges", func(t *testing.T) {
		ctx := testenv.Context(t, time.Minute)
		var failed atomic.Int64
		p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
			if op == "GetObject" && failed.Add(1) <= n {
				slowDown(w, r)
				return true
			}
			return false
		})
		s := newStore(t, srv, p.URL, s3store.Options{PartSize: 5 << 20, Retry: fastRetry})
		b, key := blob(t, 12<<20)
		if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		if st := s.Stats(); st.Retries != n || st.BytesDown != int64(len(b)) {
			t.Errorf("Stats() = %+v, want Retries %d, BytesDown %d", st, n, len(b))
		}
	})
}

func TestRetriesSpentArePermanent(t *testing.T) {
	drivertest.RetriesSpentArePermanent(t, faultDriver(testenv.S3(t, testenv.S3Options{})))
}

// TestCorruptedBodyRejected flips one byte of an upload on its way to the server: S3
// rejects the body against its checksum, the Put fails without retrying, and neither an
// object nor an incomplete upload remains. For a v1 key with a signed payload the
// signature's x-amz-content-sha256 catches it first; with UNSIGNED-PAYLOAD (as over TLS)
// the x-amz-checksum-sha256 the store sends does. A v2 key's bodies always go unsigned:
// versitygw's own CRC64NVME or CRC32C check of x-amz-checksum-* refuses them.
func TestCorruptedBodyRejected(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	for _, tc := range []struct {
		name     string
		op       string
		size     int
		hash     string                  // the key's hash
		checksum types.ChecksumAlgorithm // Options.Checksum
		unsigned bool                    // the client sends UNSIGNED-PAYLOAD: only x-amz-checksum-sha256 guards the body
		want     string
	}{
		{"PutObject", "PutObject", 3 << 20, driver.SHA256, "", false, "XAmzContentSHA256Mismatch"},
		{"UploadPart", "UploadPart", 12 << 20, driver.SHA256, "", false, "XAmzContentSHA256Mismatch"},
		{"PutObjectUnsignedPayload", "PutObject", 3 << 20, driver.SHA256, "", true, "BadDigest"},
		{"UploadPartUnsignedPayload", "UploadPart", 12 << 20, driver.SHA256, "", true, "BadDigest"},
		{"PutObjectV2CRC64NVME", "PutObject", 3 << 20, driver.BLAKE3, "", false, "BadDigest"},
		{"UploadPartV2CRC64NVME", "UploadPart", 12 << 20, driver.BLAKE3, "", false, "BadDigest"},
		{"PutObjectV2CRC32C", "PutObject", 3 << 20, driver.BLAKE3, types.ChecksumAlgorithmCrc32c, false, "BadDigest"},
		{"UploadPartV2CRC32C", "UploadPart", 12 << 20, driver.BLAKE3, types.ChecksumAlgorithmCrc32c, false, "BadDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var corrupted atomic.Int64 // requests whose body was flipped
			p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == tc.op && (op != "UploadPart" || r.URL.Query().Get("partNumber") == "2") {
					corrupted.Add(1)
					r.Body = &testenv.FlipByte{R: r.Body, At: 12345}
				}
				return false
			})
			var client *s3.Client
			if tc.unsigned {
				client = srv.NewClientFor(p.URL, func(o *s3.Options) {
					o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
				})
			} else {
				client = srv.NewClientFor(p.URL)
			}
			s, err := s3store.New(client, srv.Bucket, s3store.Options{
				Prefix: "corrupt-" + tc.name, PartSize: 5 << 20, Retry: fastRetry, Logger: testenv.Logger(t), Checksum: tc.checksum})
			if err != nil {
				t.Fatal(err)
			}
			b, key := blobFor(t, tc.hash, tc.size)
			_, err = s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || !driver.IsPermanent(err) {
				t.Fatalf("Put of a corrupted body: err = %v, want a permanent S3 API error", err)
			}
			if apiErr.ErrorCode() != tc.want {
				t.Errorf("error code %q, want %q", apiErr.ErrorCode(), tc.want)
			}
			if errors.Is(err, s3store.ErrChecksumRefused) {
				t.Errorf("a corrupted body is not a refused algorithm: %v", err)
			}
			// The 400 is not retried: the corrupted request went out once. (Part 3 may or
			// may not have started before part 2's rejection cancelled the upload, and
			// Stats().Retries may count a retried abort: versitygw sometimes answers the
			// abort right after a failed part with a 500.)
			if got := corrupted.Load(); got != 1 {
				t.Errorf("the corrupted %s was sent %d times, want 1 (a rejected body is not resent)", tc.op, got)
			}
			if maxReqs := map[string]int{"PutObject": 1, "UploadPart": 3}[tc.op]; p.count(tc.op) > maxReqs {
				t.Errorf("server saw %d %s requests, want at most %d", p.count(tc.op), tc.op, maxReqs)
			}
			if st := s.Stats(); st.Puts != 0 {
				t.Errorf("Stats() = %+v, want no puts", st)
			}
			if h := headObject(t, ctx, srv, s, key); h != nil {
				t.Errorf("object visible after a rejected upload (%d bytes)", *h.ContentLength)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("Get after rejected upload: %v, want ErrNotFound", err)
			}
			if ups := pendingUploads(t, ctx, srv); len(ups) != 0 {
				t.Errorf("incomplete multipart uploads left: %v", ups)
			}
			if tc.op == "UploadPart" && s.Stats().Aborts != 1 {
				t.Errorf("Stats().Aborts = %d, want 1", s.Stats().Aborts)
			}
		})
	}
}
