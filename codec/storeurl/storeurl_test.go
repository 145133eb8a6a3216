package storeurl_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// fakeOpen records the URL it was handed and opens an empty memstore.
type fakeOpen struct{ got *url.URL }

func (f *fakeOpen) open(_ context.Context, u *url.URL) (driver.Store, error) {
	f.got = u
	return memstore.New(), nil
}

func TestMuxOpen(t *testing.T) {
	var mux storeurl.Mux
	var a, b fakeOpen
	mux.Register("aa", a.open)
	mux.Register("b+2.x-y", b.open)
	for _, tc := range []struct {
		url     string
		opener  *fakeOpen
		wantErr string // "" = opens
	}{
		{"aa://bucket/prefix?x=1", &a, ""},
		{"AA://bucket/upper", &a, ""}, // url.Parse lowercases the scheme
		{"b+2.x-y:///dir", &b, ""},
		{"ftp://bucket", nil, `scheme "ftp" is not one of aa, b+2.x-y`},
		{"/var/lib/x", nil, `scheme "" is not one of aa, b+2.x-y`},
		{"aa://bucket/%zz", nil, "invalid URL escape"},
		{":nothing", nil, "missing protocol scheme"},
	} {
		a.got, b.got = nil, nil
		s, err := mux.Open(context.Background(), tc.url)
		if tc.wantErr != "" {
			if !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%q) = %v, %v; want ErrInvalidURL naming %q", tc.url, s, err, tc.wantErr)
			}
			continue
		}
		if err != nil || s == nil || tc.opener.got == nil || tc.opener.got.String() != strings.Replace(tc.url, "AA:", "aa:", 1) {
			t.Errorf("Open(%q) = %v, %v; opener got %v", tc.url, s, err, tc.opener.got)
		}
	}
}

// TestMuxOpenPassesErrors: what an opener returns reaches the caller as it is.
func TestMuxOpenPassesErrors(t *testing.T) {
	errDown := errors.New("credentials expired")
	var mux storeurl.Mux
	mux.Register("s3", func(context.Context, *url.URL) (driver.Store, error) { return nil, errDown })
	if _, err := mux.Open(context.Background(), "s3://b"); err != errDown {
		t.Fatalf("Open = %v, want the opener's error", err)
	}
}

func TestMuxEmpty(t *testing.T) {
	var mux storeurl.Mux
	_, err := mux.Open(context.Background(), "mem://")
	if !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), "none are") {
		t.Fatalf("Open on an empty Mux: %v", err)
	}
	if got := mux.Schemes(); len(got) != 0 {
		t.Fatalf("Schemes() = %q", got)
	}
}

func TestMuxRegisterPanics(t *testing.T) {
	open := (&fakeOpen{}).open
	for _, tc := range []struct {
		name, scheme string
		open         storeurl.OpenFunc
		want         string
	}{
		{"twice", "mem", open, `scheme "mem" registered twice`},
		{"empty scheme", "", open, "not a lowercase URL scheme"},
		{"upper case", "S3", open, "not a lowercase URL scheme"},
		{"digit first", "3s", open, "not a lowercase URL scheme"},
		{"with colon", "s3:", open, "not a lowercase URL scheme"},
		{"nil opener", "gs", nil, `nil opener for scheme "gs"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mux storeurl.Mux
			mux.Register("mem", open)
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, tc.want) {
					t.Fatalf("Register(%q) panicked with %q, want %q", tc.scheme, r, tc.want)
				}
				if got := strings.Join(mux.Schemes(), ","); got != "mem" {
					t.Fatalf("after a refused Register, Schemes() = %s", got)
				}
			}()
			mux.Register(tc.scheme, tc.open)
		})
	}
}

func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		url, want string // want "" = accepted
	}{
		{"s3://b/p", ""},
		{"s3://b/p?region=x&endpoint=y", ""},
		{"s3://b/p?region=x&zz=1&endpont=y", `unknown parameter "endpont" (known: endpoint, region)`},
	} {
		u, _ := url.Parse(tc.url)
		err := storeurl.CheckParams("s3store", u, "endpoint", "region")
		if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckParams(%q) = %v, want %q", tc.url, err, tc.want)
		}
	}
}

// TestInvalidRedacts: a password in a URL never reaches an error message.
func TestInvalidRedacts(t *testing.T) {
	u, _ := url.Parse("https://user:hunter2@payloads/p")
	cause := errors.New("bad prefix")
	for _, err := range []error{storeurl.Invalid("op", u, "no %s", "bucket"), storeurl.InvalidBecause("op", u, cause)} {
		if !errors.Is(err, storeurl.ErrInvalidURL) || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "op: store URL ") {
			t.Errorf("%v: want ErrInvalidURL, op prefix, no password", err)
		}
	}
	if err := storeurl.InvalidBecause("op", u, cause); !errors.Is(err, cause) {
		t.Errorf("InvalidBecause does not wrap its cause: %v", err)
	}
}

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		url, noun  string
		want       storeurl.Location
		wantErr    string
		wantRegion string
	}{
		{url: "s3://b/team/payloads?region=eu", noun: "bucket", want: storeurl.Location{Bucket: "b", Prefix: "team/payloads"}, wantRegion: "eu"},
		{url: "s3://b", noun: "bucket", want: storeurl.Location{Bucket: "b"}},
		{url: "s3:///p", noun: "bucket", wantErr: "no bucket (want s3://bucket/prefix)"},
		{url: "azblob:///p", noun: "container", wantErr: "no container (want azblob://container/prefix)"},
		{url: "s3://b/p?regoin=eu", noun: "bucket", wantErr: `unknown parameter "regoin" (known: region)`},
	} {
		u, _ := url.Parse(tc.url)
		loc, err := storeurl.ParseLocation("op", u, tc.noun, "region")
		if tc.wantErr != "" {
			if !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLocation(%s) = %v, want ErrInvalidURL naming %q", tc.url, err, tc.wantErr)
			}
			continue
		}
		if err != nil || loc.Bucket != tc.want.Bucket || loc.Prefix != tc.want.Prefix || loc.Query.Get("region") != tc.wantRegion {
			t.Errorf("ParseLocation(%s) = %+v, %v; want %+v", tc.url, loc, err, tc.want)
		}
	}
}
