package payloadsvc

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// hostAllowlist decides which Host headers the service answers. It is what stops DNS
// rebinding: a web page at evil.example that re-points its name at this service can
// make the browser send it requests as same-origin, able to read the answers, but the
// browser still sends "Host: evil.example". IP literals and loopback names cannot be
// rebound, so they are always allowed.
type hostAllowlist struct {
	any   bool
	names map[string]bool // lowercase, without port or trailing dot
}

func newHostAllowlist(opts Options) (hostAllowlist, error) {
	a := hostAllowlist{names: map[string]bool{}, any: len(opts.AllowedHosts) == 0 && opts.Authorizer != nil}
	for _, h := range opts.AllowedHosts {
		h = strings.TrimSpace(h)
		switch {
		case h == "*":
			a.any = true
		case h == "" || strings.ContainsAny(h, "/@?# \t") || hostName(h) == "":
			return a, fmt.Errorf("payloadsvc: Options.AllowedHosts: %q is not a host name (want name or name:port; \"*\" for any)", h)
		default:
			a.names[hostName(h)] = true
		}
	}
	if opts.PublicURL != "" {
		if u, err := url.Parse(opts.PublicURL); err == nil {
			a.names[hostName(u.Host)] = true
		}
	}
	return a, nil
}

// allows reports whether a request's Host may be answered.
func (a hostAllowlist) allows(host string) bool {
	if a.any || host == "" { // no Host: HTTP/1.0, not a browser
		return true
	}
	name := hostName(host)
	return a.names[name] || name == "localhost" || strings.HasSuffix(name, ".localhost") || net.ParseIP(name) != nil
}

// hostName is host without its port, brackets or trailing dot, in lower case.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
