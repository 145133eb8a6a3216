package gcsstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestRefreshOnReuse: a Put of an existing key reads nothing, and moves customTime
// forward only when it is older than TouchAfter; Touch does the same.
func TestRefreshOnReuse(t *testing.T) {
	srv := server(t)
	ctx := testenv.Context(t, time.Minute)
	young := newStore(t, srv, "", gcsstore.Options{Prefix: "refresh"})
	b, key := blob(t, 3000)
	if created, err := young.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
		t.Fatalf("Put = %v, %v", created, err)
	}
	written := objectAttrs(t, ctx, srv, young, key).CustomTime
	if written.IsZero() {
		t.Fatal("new object has no customTime")
	}
	// Young: reuse leaves customTime alone.
	if created, err := young.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
		t.Fatalf("Put(existing) = %v, %v", created, err)
	}
	if got := objectAttrs(t, ctx, srv, young, key).CustomTime; !got.Equal(written) {
		t.Errorf("customTime moved from %v to %v on the reuse of a young object", written, got)
	}
	if st := young.Stats(); st.Touches != 1 || st.Refreshes != 0 {
		t.Errorf("Stats() = %+v, want 1 touch, no refresh", st)
	}
	// Older than TouchAfter (1ns): reuse and Touch move it to now. fake-gcs-server keeps
	// whole seconds: let the clock pass into the next one, so that a refresh shows.
	time.Sleep(time.Until(written.Add(time.Second)))
	old := newStore(t, srv, "", gcsstore.Options{Prefix: "refresh", TouchAfter: time.Nanosecond})
	before := time.Now()
	if created, err := old.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
		t.Fatalf("Put(existing) = %v, %v", created, err)
	}
	afterPut := objectAttrs(t, ctx, srv, old, key).CustomTime
	if !afterPut.After(written) || afterPut.Before(before.Add(-time.Second)) {
		t.Errorf("customTime %v after reuse, want later than %v and about %v", afterPut, written, before)
	}
	info, err := old.Touch(ctx, key)
	if err != nil || info.Size != int64(len(b)) || info.ModTime.Before(afterPut) {
		t.Fatalf("Touch = %+v, %v; want size %d and a ModTime from %v on", info, err, len(b), afterPut)
	}
	if st := old.Stats(); st.Touches != 2 || st.Refreshes != 2 || st.Puts != 0 {
		t.Errorf("Stats() = %+v, want 2 touches, 2 refreshes, no puts", st)
	}
}
