package blobxfer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// object is a fake store's stat result.
type object struct {
	size int64
	mod  time.Time
}

func testCore(t *testing.T) *Core {
	t.Helper()
	var client struct{}
	c, err := NewCore(Spec{Driver: "fakestore", Scheme: "fake", Kind: "bucket", Noun: "object", MinPartSize: 1},
		&client, "b", Options{TouchAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPut runs Put's shared steps against a fake store: what is written, refreshed and
// counted for each state of the object under the key.
func TestPut(t *testing.T) {
	errRace := errors.New("precondition failed")
	old := time.Now().Add(-2 * time.Hour)
	for _, tc := range []struct {
		name        string
		size        int64
		stat        error
		have        object
		writeErr    error
		wantCreated bool
		wantErr     bool
		wantWrite   string // "": not called, "new", "replace"
		wantRefresh bool
	}{
		{name: "New", size: 10, stat: driver.ErrNotFound, wantCreated: true, wantWrite: "new"},
		{name: "SameSizeYoung", size: 10, have: object{10, time.Now()}},
		{name: "SameSizeOld", size: 10, have: object{10, old}, wantRefresh: true},
		{name: "Damaged", size: 10, have: object{3, time.Now()}, wantCreated: true, wantWrite: "replace"},
		{name: "LostRace", size: 10, stat: driver.ErrNotFound, writeErr: errRace, wantWrite: "new"},
		{name: "WriteFails", size: 10, stat: driver.ErrNotFound, writeErr: errors.New("boom"), wantErr: true, wantWrite: "new"},
		{name: "StatFails", size: 10, stat: errors.New("denied"), wantErr: true},
		{name: "NegativeSize", size: -1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCore(t)
			var wrote string
			var refreshed bool
			ops := Ops[object]{
				Stat: func(context.Context, string) (object, error) { return tc.have, tc.stat },
				Info: func(o object) driver.Info { return driver.Info{Size: o.size, ModTime: o.mod} },
				Refresh: func(_ context.Context, _ string, o object) (object, error) {
					refreshed = true
					o.mod = time.Now()
					return o, nil
				},
				Lost: func(err error) bool { return errors.Is(err, errRace) },
			}
			created, err := Put(context.Background(), c, ops, "v1/k", tc.size, func(_ context.Context, name string, o *object) error {
				wrote = "new"
				if o != nil {
					wrote = "replace"
				}
				return tc.writeErr
			})
			if created != tc.wantCreated || (err != nil) != tc.wantErr {
				t.Fatalf("Put = %v, %v; want %v, error %v", created, err, tc.wantCreated, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "fakestore put v1/k: ") {
				t.Errorf("error %q does not name the op and object", err)
			}
			if wrote != tc.wantWrite || refreshed != tc.wantRefresh {
				t.Errorf("write %q, refresh %v; want %q, %v", wrote, refreshed, tc.wantWrite, tc.wantRefresh)
			}
			if got, want := c.Stats.Puts.Load(), map[bool]int64{true: 1}[tc.wantCreated]; got != want {
				t.Errorf("Stats.Puts = %d, want %d", got, want)
			}
		})
	}
	if _, err := Put(context.Background(), testCore(t), Ops[object]{}, "v1/../k", 1, nil); !errors.Is(err, driver.ErrInvalidKey) {
		t.Errorf("Put(bad key) = %v, want ErrInvalidKey", err)
	}
}

// TestNewCore checks the client, the part size bounds (named in the error) and the
// defaults.
func TestNewCore(t *testing.T) {
	var client struct{}
	spec := Spec{Driver: "fakestore", Scheme: "fake", Kind: "bucket", MinPartSize: 64 << 10, MaxPartSize: 4000 << 20}
	for _, tc := range []struct {
		name   string
		client *struct{}
		part   int64
		want   string
	}{
		{"NilClient", nil, 0, "fakestore: client is nil"},
		{"TooSmall", &client, 1000, "part size 1000: must be within [64 KiB, 4000 MiB]"},
		{"TooLarge", &client, 5 << 30, "must be within [64 KiB, 4000 MiB]"},
	} {
		if _, err := NewCore(spec, tc.client, "b", Options{PartSize: tc.part}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewCore = %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	c, err := NewCore(spec, &client, "b", Options{Concurrency: -1})
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Opts; o.PartSize != DefaultPartSize || o.Concurrency != DefaultConcurrency || o.TouchAfter != DefaultTouchAfter ||
		o.AttemptTimeout != DefaultAttemptTimeout || o.Logger == nil {
		t.Errorf("Opts = %+v, want the defaults", o)
	}
}
