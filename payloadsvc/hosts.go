package payloadsvc

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// allowHosts refuses, with 421, a request whose Host is not allowed (/healthz aside: load
// balancers probe it by address or by any name).
func allowHosts(a hostAllowlist, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requestInfoFrom(r.Context()).rt.name != routeHealthz && !a.allows(r.Host) {
				log.Warn("payloadsvc: request for a Host that is not allowed (see --allowed-host)",
					"request_id", requestID(r), "host", truncate(r.Host, 100))
				writeError(w, r, http.StatusMisdirectedRequest,
					"Host is not allowed here (the operator can add it with --allowed-host or AllowedHosts)")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
