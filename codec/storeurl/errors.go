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
