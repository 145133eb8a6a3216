package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestWrongRegion: a client that signs for another region than the bucket's is refused
// by the server. That is a configuration error: it must fail at once with an error that
// says so, without retries, and leave nothing behind.
func TestWrongRegion(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{Region: "eu-central-1"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wrong, err := s3store.New(srv.NewClient(func(o *s3.Options) { o.Region = "us-west-2" }), srv.Bucket,
		s3store.Options{Prefix: "wrong", Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b, key := storetest.RandomBlob(t, "default", 1<<20)
	_, err = wrong.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
	if err == nil {
		t.Fatal("Put signed for us-west-2 on an eu-central-1 server succeeded")
	}
	if !driver.IsPermanent(err) || errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Put error = %v; want a permanent error that is not ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), `region "us-west-2"`) {
		t.Errorf("Put error = %v; want it to name the region the client signs for", err)
	}
	if n := wrong.Stats().Retries; n != 0 {
		t.Errorf("Retries = %d, want 0: a refused signature is not transient", n)
	}
	t.Logf("wrong region: %v", err)

	// The same store with the right region sees nothing under that key.
	right := newStore(t, srv, "", s3store.Options{Prefix: "wrong"})
	if _, err := right.Touch(ctx, key); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Touch after the refused Put: %v, want ErrNotFound", err)
	}
}
