package codec_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// noS3 is an S3 client that is never reached: FuzzLocate only parses.
type noS3 struct{}

func (noS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errors.New("not reached")
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzLocate feeds every kind of reference through the one parser (Codec.Locate): a
// longhaul reference, an External Storage reference (an extstore claim or a Temporal S3
// claim), a DataDog v1 or v2 reference, chosen by the first byte, with the rest as its
// data. Whatever a forger writes, Locate never panics, and either passes the payload
// through, refuses it with ErrInvalidReference, or returns a Locator inside the codec's
// namespace and maxima whose digest is a content address.
func FuzzLocate(f *testing.F) {
	const maxSize = 1 << 20
	h := `0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`
	f.Add(byte(0), []byte(`{"v":1,"sha256":"`+h+`","size":12,"rawSize":40,"compression":"zstd"}`))
	f.Add(byte(1), []byte(`{"driverName":"longhaul","claimData":{"longhaul":"1","namespace":"prod","sha256":"`+h+
		`","size":"5","rawSize":"5","compression":"none"}}`))
	f.Add(byte(1), []byte(`{"driverName":"aws.s3driver","claimData":{"bucket":"b","key":"v0/ns/prod/wt/W/wi/i/ri/r/d/sha256/`+h+
		`","hash_algorithm":"sha256","hash_value":"`+h+`"}}`))
	f.Add(byte(1), []byte(`{"driverName":"aws.s3driver","claimData":{"bucket":"b","key":"v0/ns/prod/../qa/d/sha256/`+h+
		`","hash_algorithm":"sha256","hash_value":"`+h+`"}}`))
	f.Add(byte(2), []byte(`{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"size":3,"digest":"sha256:`+h+`"}`))
	f.Add(byte(3), []byte(`{"metadata":{},"size":3,"digest":"sha256:`+h+`","key":"/blobs/prod/common/sha256:`+h+`/sha256:`+h+`"}`))
	f.Add(byte(3), []byte(`{"size":3,"digest":"sha256:`+h+`","key":"/blobs/prod/../qa/common/x"}`))
	dd, err := datadog.NewReader(datadog.Options{URL: "http://127.0.0.1:1", MaxSize: maxSize / 2})
	if err != nil {
		f.Fatal(err)
	}
	ts3, err := temporals3.New(temporals3.Options{Client: noS3{}, Buckets: []string{"b"}, MaxSize: maxSize / 4})
	if err != nil {
		f.Fatal(err)
	}
	base, err := codec.New(memstore.New(), codec.Options{MaxSize: maxSize, Readers: []codec.Reader{dd, ts3}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	c, err := base.WithNamespace("prod")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		p := fuzzPayload(kind, data)
		loc, ok, err := c.Locate(p)
		switch {
		case !ok:
			return
		case err != nil:
			if !errors.Is(err, codec.ErrInvalidReference) {
				t.Fatalf("Locate error %v is not ErrInvalidReference", err)
			}
			return
		}
		switch {
		case loc.Namespace != "prod":
			t.Fatalf("Locator outside the namespace served: %+v", loc)
		case loc.Max <= 0 && loc.Size != 0 || loc.Max > maxSize || loc.Size > loc.Max || loc.RawSize > maxSize || loc.Bound() < 0:
			t.Fatalf("Locator over the maxima: %+v", loc)
		case loc.Algorithm != "sha256" || !hex64.MatchString(loc.Digest):
			t.Fatalf("Locator without a content address: %+v", loc)
		}
		if loc.Key != "" {
			if _, err := codec.ContainedKey(loc.Key, -1, ""); err != nil {
				t.Fatalf("Locator key is not canonical: %v", err)
			}
		}
	})
}

func fuzzPayload(kind byte, data []byte) *commonpb.Payload {
	md := map[string][]byte{}
	switch kind % 4 {
	case 0:
		md["encoding"] = []byte("json/longhaul-ref")
	case 1:
		md["encoding"] = []byte("json/protobuf")
		md["messageType"] = []byte("temporal.api.sdk.v1.ExternalStorageReference")
	case 2:
		md["encoding"] = []byte("json/plain")
		md["temporal.io/remote-codec"] = []byte("v1")
	case 3:
		md["encoding"] = []byte("json/plain")
		md["temporal.io/remote-codec"] = []byte("v2")
	}
	return &commonpb.Payload{Metadata: md, Data: data}
}
