package s3store_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// waitPast returns once the clock is past t. S3's LastModified has one-second
// resolution, so an object is older than TouchAfter (1s) for sure once the clock has
// passed LastModified + 1s; waiting for that instant is a condition, not a guess.
func waitPast(t time.Time) {
	time.Sleep(time.Until(t))
}

// TestTouchRefreshesAge: with TouchAfter 1s, reusing an object older than that (a Put
// of an existing key, or Touch) copies it onto itself: HEAD shows a later LastModified
// and the same bytes. A young object is not copied. Objects too large for CopyObject
// are refreshed with UploadPartCopy.
func TestTouchRefreshesAge(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	for _, tc := range []struct {
		name        string
		size        int
		maxCopySize int64 // 0: the real 5 GiB
		reuse       string
		// wantMultipart counts multipart uploads after the refresh. versitygw keeps
		// LastModified on a CopyObject onto itself, so there every refresh ends as a
		// multipart copy (on AWS, CopyObject alone does it).
		wantMultipart int64
	}{
		{"PutExisting", 100 << 10, 0, "put", 1},
		{"Touch", 100 << 10, 0, "touch", 1},
		{"TouchMultipartObject", 11 << 20, 0, "touch", 2},
		{"TouchOverCopyLimit", 11 << 20, 1 << 20, "touch", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.maxCopySize > 0 {
				t.Cleanup(s3store.SetMaxCopySize(tc.maxCopySize))
			}
			ctx := testenv.Context(t, time.Minute)
			s := newStore(t, srv, "", s3store.Options{PartSize: 5 << 20, TouchAfter: time.Second})
			b, key := blob(t, tc.size)
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			before := headObject(t, ctx, srv, s, key)
			mod0 := aws.ToTime(before.LastModified)

			// Young: no copy. LastModified has whole seconds, so an object written just
			// now can look a second old; check youth with a store whose TouchAfter is
			// far above that rounding, over the same objects.
			young := newStore(t, srv, "", s3store.Options{Prefix: s.Options().Prefix, PartSize: 5 << 20, TouchAfter: time.Hour})
			if info, err := young.Touch(ctx, key); err != nil || info.Size != int64(len(b)) {
				t.Fatalf("Touch(young) = %+v, %v", info, err)
			}
			if _, err := young.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("Put(young) = %v", err)
			}
			if st := young.Stats(); st.Copies != 0 || st.MultipartUploads != 0 {
				t.Fatalf("young object copied: Stats() = %+v", st)
			}

			waitPast(mod0.Add(time.Second + 50*time.Millisecond))
			switch tc.reuse {
			case "put":
				if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
					t.Fatal(err)
				}
			case "touch":
				info, err := s.Touch(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size != int64(len(b)) || !info.ModTime.After(mod0) {
					t.Errorf("Touch = %+v, want size %d and ModTime after %s", info, len(b), mod0)
				}
			}
			after := headObject(t, ctx, srv, s, key)
			mod1 := aws.ToTime(after.LastModified)
			t.Logf("LastModified %s -> %s, ETag %s -> %s", mod0, mod1, aws.ToString(before.ETag), aws.ToString(after.ETag))
			if !mod1.After(mod0) {
				t.Errorf("LastModified %s not after %s: age not refreshed", mod1, mod0)
			}
			st := s.Stats()
			if st.Copies != 1 || st.Puts != 1 || st.MultipartUploads != tc.wantMultipart || st.Aborts != 0 {
				t.Errorf("Stats() = %+v, want Copies 1, Puts 1, MultipartUploads %d", st, tc.wantMultipart)
			}
			if tc.maxCopySize > 0 && !strings.Contains(aws.ToString(after.ETag), "-") {
				t.Errorf("ETag %s after an UploadPartCopy refresh, want a multipart ETag", aws.ToString(after.ETag))
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		})
	}
}
