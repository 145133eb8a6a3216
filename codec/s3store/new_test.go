package s3store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

func TestNew(t *testing.T) {
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1")})
	for _, tc := range []struct {
		name    string
		client  *s3.Client
		bucket  string
		opts    s3store.Options
		wantErr string
		check   func(t *testing.T, s *s3store.Store)
	}{
		{name: "Defaults", client: client, bucket: "b", check: func(t *testing.T, s *s3store.Store) {
			o := s.Options()
			if o.PartSize != 16<<20 || o.Concurrency != 4 ||
				o.TouchAfter != 24*time.Hour || o.AttemptTimeout != 2*time.Minute || o.Logger == nil {
				t.Errorf("Options() = %+v, want the defaults", o)
			}
			if got := s.String(); got != "s3store(s3://b/)" {
				t.Errorf("String() = %q", got)
			}
		}},
		{name: "NegativeMeansDefault", client: client, bucket: "b",
			opts: s3store.Options{Concurrency: -1, TouchAfter: -time.Hour, AttemptTimeout: -time.Second},
			check: func(t *testing.T, s *s3store.Store) {
				o := s.Options()
				if o.Concurrency != 4 || o.TouchAfter != 24*time.Hour || o.AttemptTimeout != 2*time.Minute {
					t.Errorf("Options() = %+v, want the defaults", o)
				}
			}},
		{name: "Prefix", client: client, bucket: "b", opts: s3store.Options{Prefix: "blobs/prod/"}, check: func(t *testing.T, s *s3store.Store) {
			if got := s.String(); got != "s3store(s3://b/blobs/prod/)" {
				t.Errorf("String() = %q", got)
			}
			if got, err := s.ObjectKey("v1/ns/sha256/ab"); err != nil || got != "blobs/prod/v1/ns/sha256/ab" {
				t.Errorf("ObjectKey = %q, %v", got, err)
			}
		}},
		{name: "KMSKeyImpliesSSEKMS", client: client, bucket: "b", opts: s3store.Options{KMSKeyID: "arn:aws:kms:k"}, check: func(t *testing.T, s *s3store.Store) {
			if got := s.Options().ServerSideEncryption; got != types.ServerSideEncryptionAwsKms {
				t.Errorf("ServerSideEncryption = %q, want aws:kms", got)
			}
		}},
		{name: "Explicit", client: client, bucket: "b", opts: s3store.Options{PartSize: 64 << 20, Concurrency: 8, TouchAfter: time.Hour},
			check: func(t *testing.T, s *s3store.Store) {
				if o := s.Options(); o.PartSize != 64<<20 || o.Concurrency != 8 || o.TouchAfter != time.Hour {
					t.Errorf("Options() = %+v", o)
				}
			}},
		{name: "NilClient", bucket: "b", wantErr: "client is nil"},
		{name: "NoBucket", client: client, wantErr: "bucket is empty"},
		{name: "PartTooSmall", client: client, bucket: "b", opts: s3store.Options{PartSize: 1 << 20}, wantErr: "part size"},
		{name: "PartTooLarge", client: client, bucket: "b", opts: s3store.Options{PartSize: 6 << 30}, wantErr: "part size"},
		{name: "BadPrefix", client: client, bucket: "b", opts: s3store.Options{Prefix: "a/../b"}, wantErr: "prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := s3store.New(tc.client, tc.bucket, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestInvalidKey(t *testing.T) {
	s, err := s3store.New(s3.New(s3.Options{Region: "us-east-1"}), "b", s3store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Context(t, time.Minute)
	for _, key := range []string{"", "a/../b", "a b", "a//b"} {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Touch(ctx, key); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Touch(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}
