package storeurl

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Invalid is the error a driver's opener returns for a URL it refuses: "op: store URL
// "u": reason", with any password in u redacted. It wraps ErrInvalidURL.
func Invalid(op string, u *url.URL, format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf("%s: store URL %q: %s", op, u.Redacted(), fmt.Sprintf(format, args...))}
}

// InvalidBecause is Invalid for a refusal that has a cause of its own (a constructor's
// error on the URL's bucket or prefix), which it wraps too.
func InvalidBecause(op string, u *url.URL, cause error) error {
	return &invalidError{msg: fmt.Sprintf("%s: store URL %q: %v", op, u.Redacted(), cause), cause: cause}
}

// CheckParams refuses u's query parameters other than known, naming the first unknown
// one (in sorted order, so the message is stable) and the known ones.
func CheckParams(op string, u *url.URL, known ...string) error {
	q := u.Query()
	unknown := make([]string, 0, len(q))
	for k := range q {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return Invalid(op, u, "unknown parameter %q (known: %s)", unknown[0], strings.Join(known, ", "))
}

type invalidError struct {
	msg   string
	cause error
}

func (e *invalidError) Error() string { return e.msg }

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidURL}
	}
	return []error{ErrInvalidURL, e.cause}
}

// Location is what a cloud store URL, scheme://bucket/prefix?params, names.
type Location struct {
	// Bucket is the URL's host: the bucket or container.
	Bucket string
	// Prefix is the URL's path without its leading slash: the key prefix.
	Prefix string
	// Query holds the URL's parameters, all of them known.
	Query url.Values
}

// ParseLocation checks a cloud store URL for op (the driver's name): it must name a
// bucket ("no bucket (want s3://bucket/prefix)", with noun for other words than bucket)
// and no parameter other than known.
func ParseLocation(op string, u *url.URL, noun string, known ...string) (Location, error) {
	if u.Host == "" {
		return Location{}, Invalid(op, u, "no %s (want %s://%[1]s/prefix)", noun, u.Scheme)
	}
	if err := CheckParams(op, u, known...); err != nil {
		return Location{}, err
	}
	return Location{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/"), Query: u.Query()}, nil
}
