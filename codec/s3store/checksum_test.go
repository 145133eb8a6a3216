package s3store_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// newChecksum returns a hash of a request checksum algorithm, from the standard library
// (the NVME polynomial through hash/crc64, as the AWS SDK computes it): an
// implementation apart from the store's.
func newChecksum(t testing.TB, algo types.ChecksumAlgorithm) hash.Hash {
	switch algo {
	case types.ChecksumAlgorithmCrc64nvme:
		return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	case types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmSha256:
		return sha256.New()
	}
	t.Fatalf("no checksum %q", algo)
	return nil
}

func checksumOf(t testing.TB, algo types.ChecksumAlgorithm, b []byte) string {
	h := newChecksum(t, algo)
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// sentRequest is what the proxy saw of one request.
type sentRequest struct {
	op     string
	header http.Header
	body   []byte
}

// recordingProxy is a proxy in front of srv that keeps every request with its body.
type recordingProxy struct {
	*faultProxy
	mu   sync.Mutex
	reqs []sentRequest
}

func newRecordingProxy(t *testing.T, srv *testenv.S3Server) *recordingProxy {
	rp := &recordingProxy{}
	rp.faultProxy = newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("proxy: read %s body: %v", op, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.mu.Lock()
		rp.reqs = append(rp.reqs, sentRequest{op: op, header: r.Header.Clone(), body: body})
		rp.mu.Unlock()
		return false
	})
	return rp
}

func (rp *recordingProxy) requests(op string) []sentRequest {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []sentRequest
	for _, r := range rp.reqs {
		if r.op == op {
			out = append(out, r)
		}
	}
	return out
}

// newAppClient builds a client the way applications do: config.LoadDefaultConfig, so the
// SDK's checksum defaults hold (request checksums and response validation "when
// supported"), here against endpoint.
func newAppClient(t *testing.T, srv *testenv.S3Server, endpoint string) *s3.Client {
	t.Helper()
	noAWSConfig(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(srv.Region), config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenSupported {
		t.Fatalf("RequestChecksumCalculation = %v, want the SDK default WhenSupported", cfg.RequestChecksumCalculation)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// TestRequestChecksums records what goes on the wire from an application's client
// (newAppClient). A v2 (BLAKE3) key's PutObject and UploadPart bodies carry exactly one
// checksum, x-amz-checksum-crc64nvme (or -crc32c with Options.Checksum), which matches
// the body, and are sent UNSIGNED-PAYLOAD: no SHA-256 of the body is computed. Its
// multipart upload declares the algorithm and no type (so CRC64NVME is FULL_OBJECT,
// CRC32C COMPOSITE), and the complete call lists each part's checksum; the stored
// object's checksum is the whole object's CRC64NVME. A v1 (SHA-256) key's bodies carry
// x-amz-checksum-sha256, signed as the payload hash, as before v2.
func TestRequestChecksums(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	crc64nvme, crc32c, sha := types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256
	for _, tc := range []struct {
		name     string
		hash     string
		checksum types.ChecksumAlgorithm // Options.Checksum
		want     types.ChecksumAlgorithm // on the wire
		size     int
		wantType types.ChecksumType // of the stored multipart object
	}{
		{"V2Put", driver.BLAKE3, "", crc64nvme, 1 << 20, ""},
		{"V2Multipart", driver.BLAKE3, "", crc64nvme, 12 << 20, types.ChecksumTypeFullObject},
		{"V2PutCRC32C", driver.BLAKE3, crc32c, crc32c, 1 << 20, ""},
		{"V2MultipartCRC32C", driver.BLAKE3, crc32c, crc32c, 12 << 20, types.ChecksumTypeComposite},
		{"V1Put", driver.SHA256, crc32c, sha, 1 << 20, ""},
		{"V1Multipart", driver.SHA256, "", sha, 12 << 20, types.ChecksumTypeComposite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			p := newRecordingProxy(t, srv)
			s, err := s3store.New(newAppClient(t, srv, p.URL), srv.Bucket, s3store.Options{Prefix: testenv.UniquePrefix(),
				PartSize: 5 << 20, Checksum: tc.checksum, Logger: testenv.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			b, key := blobFor(t, tc.hash, tc.size)
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)

			bodies := append(p.requests("PutObject"), p.requests("UploadPart")...)
			if len(bodies) == 0 {
				t.Fatal("no PutObject or UploadPart seen")
			}
			for _, r := range bodies {
				checkBodyChecksum(t, r, tc.want)
			}
			if tc.wantType == "" {
				checkStoredChecksum(t, ctx, srv, s, key, tc.want, checksumOf(t, tc.want, b), types.ChecksumTypeFullObject)
				return
			}
			checkMultipart(t, p, tc.want, len(bodies))
			whole := ""
			if tc.wantType == types.ChecksumTypeFullObject {
				whole = checksumOf(t, tc.want, b)
			}
			checkStoredChecksum(t, ctx, srv, s, key, tc.want, whole, tc.wantType)
		})
	}
}

// checkBodyChecksum checks that r carries one checksum, of algo, matching its body, and
// the payload hash v1 or v2 wants.
func checkBodyChecksum(t *testing.T, r sentRequest, algo types.ChecksumAlgorithm) {
	t.Helper()
	var names []string
	for name := range r.header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-checksum-") && lower != "x-amz-checksum-algorithm" && lower != "x-amz-checksum-type" {
			names = append(names, lower)
		}
	}
	want := "x-amz-checksum-" + strings.ToLower(string(algo))
	if len(names) != 1 || names[0] != want {
		t.Errorf("%s: checksum headers %v, want %s alone", r.op, names, want)
	}
	if got, sum := r.header.Get(want), checksumOf(t, algo, r.body); got != sum {
		t.Errorf("%s: %s = %q, the body's is %q", r.op, want, got, sum)
	}
	if tr := r.header.Get("X-Amz-Trailer"); tr != "" {
		t.Errorf("%s: X-Amz-Trailer %q, want the checksum in a header", r.op, tr)
	}
	payload := r.header.Get("X-Amz-Content-Sha256")
	if algo != types.ChecksumAlgorithmSha256 {
		if payload != "UNSIGNED-PAYLOAD" {
			t.Errorf("%s: x-amz-content-sha256 %q, want UNSIGNED-PAYLOAD (no SHA-256 of a v2 body)", r.op, payload)
		}
		return
	}
	sum := sha256.Sum256(r.body)
	if payload != hex.EncodeToString(sum[:]) {
		t.Errorf("%s: x-amz-content-sha256 %q, want the body's SHA-256 (a v1 body is signed)", r.op, payload)
	}
}

// checkMultipart checks the upload's declaration and its complete call's part list.
func checkMultipart(t *testing.T, p *recordingProxy, algo types.ChecksumAlgorithm, parts int) {
	t.Helper()
	creates, completes := p.requests("CreateMultipartUpload"), p.requests("CompleteMultipartUpload")
	if len(creates) != 1 || len(completes) != 1 {
		t.Fatalf("%d CreateMultipartUpload, %d CompleteMultipartUpload; want 1 each", len(creates), len(completes))
	}
	if got := creates[0].header.Get("X-Amz-Checksum-Algorithm"); got != string(algo) {
		t.Errorf("CreateMultipartUpload x-amz-checksum-algorithm %q, want %q", got, algo)
	}
	if got := creates[0].header.Get("X-Amz-Checksum-Type"); got != "" {
		t.Errorf("CreateMultipartUpload x-amz-checksum-type %q, want none (the algorithm's default)", got)
	}
	elem := "<Checksum" + strings.ToUpper(string(algo)) + ">"
	if n := strings.Count(string(completes[0].body), elem); n != parts {
		t.Errorf("CompleteMultipartUpload lists %d %s, want one for each of %d parts", n, elem, parts)
	}
}

// checkStoredChecksum checks the checksum the server stored with the object: its type,
// and when whole is given, its value.
func checkStoredChecksum(t *testing.T, ctx context.Context, srv *testenv.S3Server, s *s3store.Store, key string,
	algo types.ChecksumAlgorithm, whole string, typ types.ChecksumType) {
	t.Helper()
	okey, err := s.ObjectKey(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(okey),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got := map[types.ChecksumAlgorithm]*string{types.ChecksumAlgorithmCrc64nvme: h.ChecksumCRC64NVME,
		types.ChecksumAlgorithmCrc32c: h.ChecksumCRC32C, types.ChecksumAlgorithmSha256: h.ChecksumSHA256}[algo]
	if got == nil || (whole != "" && *got != whole) || h.ChecksumType != typ {
		t.Errorf("stored checksum %s %v = %q, want %s %q", algo, h.ChecksumType, aws.ToString(got), typ, whole)
	}
}

// TestServerWithoutCRC64NVME puts a proxy in front of versitygw that answers like a
// server without CRC64NVME (OpenStack Swift's s3api: 501 NotImplemented) to every
// request carrying x-amz-checksum-crc64nvme or declaring that algorithm. A v2 Put with
// the default checksum fails at once, permanent, with ErrChecksumRefused, leaving
// nothing; with Options.Checksum CRC32C the same Puts (one request, multipart) succeed
// and read back; v1 keys never carry CRC64NVME.
func TestServerWithoutCRC64NVME(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if r.Header.Get("X-Amz-Checksum-Crc64nvme") == "" && !strings.EqualFold(r.Header.Get("X-Amz-Checksum-Algorithm"), "crc64nvme") {
			return false
		}
		testenv.Fail(w, r, http.StatusNotImplemented, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+
			`<Error><Code>NotImplemented</Code><Message>The x-amz-checksum-crc64nvme algorithm is not supported.</Message></Error>`)
		return true
	})
	for _, size := range []int{1 << 20, 12 << 20} {
		ctx := testenv.Context(t, time.Minute)
		b, key := blobFor(t, driver.BLAKE3, size)
		s := newStore(t, srv, p.URL, s3store.Options{PartSize: 5 << 20, Retry: fastRetry})
		_, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, s3store.ErrChecksumRefused) || !driver.IsPermanent(err) {
			t.Fatalf("Put of %d bytes with CRC64NVME: %v, want a permanent ErrChecksumRefused", size, err)
		}
		if st := s.Stats(); st.Retries != 0 || st.Puts != 0 {
			t.Errorf("Stats() = %+v, want no retries, no puts", st)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("Get after the refused Put: %v, want ErrNotFound", err)
		}

		s = newStore(t, srv, p.URL, s3store.Options{PartSize: 5 << 20, Retry: fastRetry, Checksum: types.ChecksumAlgorithmCrc32c})
		if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("Put of %d bytes with CRC32C: %v", size, err)
		}
		storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		b1, key1 := blobFor(t, driver.SHA256, size)
		if _, err := s.Put(ctx, key1, bytes.NewReader(b1), int64(len(b1))); err != nil {
			t.Fatalf("Put of %d bytes under a v1 key: %v", size, err)
		}
	}
	if ups := pendingUploads(t, testenv.Context(t, time.Minute), srv); len(ups) != 0 {
		t.Errorf("incomplete multipart uploads left: %v", ups)
	}
}

// TestChecksumOption: Options.Checksum takes CRC64NVME (the default) and CRC32C, and
// refuses anything else by name.
func TestChecksumOption(t *testing.T) {
	client := s3.New(s3.Options{Region: "us-east-1"})
	for _, c := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmCrc32c} {
		s, err := s3store.New(client, "bucket", s3store.Options{Checksum: c})
		if err != nil {
			t.Fatalf("Checksum %q: %v", c, err)
		}
		if want := cmp.Or(c, types.ChecksumAlgorithmCrc64nvme); s.Options().Checksum != want {
			t.Errorf("Checksum %q: Options().Checksum = %q, want %q", c, s.Options().Checksum, want)
		}
	}
	for _, c := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc32, "crc32c", "md5"} {
		if _, err := s3store.New(client, "bucket", s3store.Options{Checksum: c}); err == nil ||
			!strings.Contains(err.Error(), "Options.Checksum") {
			t.Errorf("Checksum %q: err = %v, want one naming Options.Checksum", c, err)
		}
	}
}
