package azblobstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestRefreshOnReuse: a Put of an existing key reads nothing, and moves Last-Modified
// forward (by a metadata rewrite) only when it is older than TouchAfter; Touch does the
// same.
func TestRefreshOnReuse(t *testing.T) {
	srv := server(t)
	ctx := testenv.Context(t, time.Minute)
	young := newStore(t, srv, "", azblobstore.Options{Prefix: "refresh"})
	b, key := blob(t, 3000)
	if created, err := young.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
		t.Fatalf("Put = %v, %v", created, err)
	}
	written := *blobProps(t, ctx, srv, young, key).LastModified
	// Last-Modified has whole seconds: let the clock pass into the next one, so that a
	// refresh shows.
	time.Sleep(time.Until(written.Add(time.Second)))

	if created, err := young.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
		t.Fatalf("Put(existing) = %v, %v", created, err)
	}
	if got := *blobProps(t, ctx, srv, young, key).LastModified; !got.Equal(written) {
		t.Errorf("Last-Modified moved from %v to %v on the reuse of a young blob", written, got)
	}
	if st := young.Stats(); st.Touches != 1 || st.Refreshes != 0 {
		t.Errorf("Stats() = %+v, want 1 touch, no refresh", st)
	}

	old := newStore(t, srv, "", azblobstore.Options{Prefix: "refresh", TouchAfter: time.Nanosecond})
	if created, err := old.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
		t.Fatalf("Put(existing) = %v, %v", created, err)
	}
	p := blobProps(t, ctx, srv, old, key)
	if !p.LastModified.After(written) || p.Metadata == nil {
		t.Errorf("Last-Modified %v, metadata %v after reuse; want later than %v, refreshed", *p.LastModified, p.Metadata, written)
	}
	if *p.ContentLength != int64(len(b)) {
		t.Errorf("blob is %d bytes after the refresh, want %d", *p.ContentLength, len(b))
	}
	info, err := old.Touch(ctx, key)
	if err != nil || info.Size != int64(len(b)) || info.ModTime.Before(*p.LastModified) {
		t.Fatalf("Touch = %+v, %v; want size %d and a ModTime from %v on", info, err, len(b), *p.LastModified)
	}
	if st := old.Stats(); st.Touches != 2 || st.Refreshes != 2 || st.Puts != 0 {
		t.Errorf("Stats() = %+v, want 2 touches, 2 refreshes, no puts", st)
	}
}
