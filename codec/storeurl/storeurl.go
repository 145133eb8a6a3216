package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// ErrInvalidURL is wrapped by every error about a store URL itself: it does not parse,
// its scheme is not registered, or its driver refuses its host, path or parameters.
// Errors reaching the storage (credentials, a client that cannot be built) do not wrap it.
var ErrInvalidURL = errors.New("invalid store URL")

// OpenFunc opens the store u names. The Mux calls it with a parsed URL whose scheme is
// the one it was registered for.
type OpenFunc func(ctx context.Context, u *url.URL) (driver.Store, error)

// Mux maps URL schemes to the drivers' openers. The zero value has none registered.
// Register every scheme before the first Open; Open is then safe for concurrent use.
type Mux struct {
	openers map[string]OpenFunc
}

// Register makes Open send URLs with scheme to open. Like go-cloud's URLMux it panics
// on a scheme that is registered already, is not a lowercase RFC 3986 scheme, or a nil
// opener: each is a wiring mistake in the program, not an input to handle.
func (m *Mux) Register(scheme string, open OpenFunc) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("storeurl: scheme %q is not a lowercase URL scheme", scheme))
	}
	if open == nil {
		panic(fmt.Sprintf("storeurl: nil opener for scheme %q", scheme))
	}
	if _, dup := m.openers[scheme]; dup {
		panic(fmt.Sprintf("storeurl: scheme %q registered twice", scheme))
	}
	if m.openers == nil {
		m.openers = make(map[string]OpenFunc)
	}
	m.openers[scheme] = open
}

// Schemes lists the registered schemes, sorted.
func (m *Mux) Schemes() []string {
	s := make([]string, 0, len(m.openers))
	for k := range m.openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// Open parses rawURL and opens it with the opener registered for its scheme. A URL that
// does not parse or whose scheme is not registered is ErrInvalidURL, naming the
// registered schemes; what the opener returns is returned as it is.
func (m *Mux) Open(ctx context.Context, rawURL string) (driver.Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &invalidError{msg: "storeurl: " + err.Error(), cause: err}
	}
	open, ok := m.openers[u.Scheme]
	if !ok {
		return nil, Invalid("storeurl", u, "scheme %q is not one of %s", u.Scheme, m.schemeList())
	}
	return open(ctx, u)
}

func (m *Mux) schemeList() string {
	if len(m.openers) == 0 {
		return "the registered ones (none are)"
	}
	return strings.Join(m.Schemes(), ", ")
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), lowercase as url.Parse
// leaves a scheme.
func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
