package payloadsvc

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// CORS answers for browsers, the Temporal UI above all.
const (
	corsAllowMethods  = "GET, HEAD, PUT, POST, OPTIONS"
	corsAllowHeaders  = "Content-Type, X-Namespace, Authorization, Authorization-Extras, X-Longhaul-Preview"
	corsExposeHeaders = "Content-Disposition, X-Request-Id"
	corsMaxAge        = "600"
)

// parseOrigins checks the allowlist: each entry exactly scheme://host[:port], as a
// browser sends it in Origin (one trailing slash is forgiven).
func parseOrigins(list []string) (map[string]bool, error) {
	out := make(map[string]bool, len(list))
	for _, o := range list {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("payloadsvc: CORS origin %q is not scheme://host[:port] (\"*\" is not allowed: origins are matched exactly)", o)
		}
		out[o] = true
	}
	return out, nil
}

// corsPolicy adds CORS headers for allowed origins and answers preflights, before any
// authorization (a browser never sends credentials on a preflight).
type corsPolicy struct {
	next    http.Handler
	origins map[string]bool
	log     *slog.Logger
}

func allowOrigins(origins map[string]bool, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return &corsPolicy{next: next, origins: origins, log: log} }
}

func (c *corsPolicy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && c.origins[origin]
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		if allowed {
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Set("Access-Control-Allow-Credentials", "true")
			hdr.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		c.next.ServeHTTP(w, r)
		return
	}
	requestInfoFrom(r.Context()).route = routePreflight
	hdr.Add("Vary", "Access-Control-Request-Method")
	hdr.Add("Vary", "Access-Control-Request-Headers")
	if !allowed {
		c.log.Warn("payloadsvc: CORS preflight refused: origin not allowed",
			"request_id", requestID(r), "origin", origin, "path", r.URL.Path,
			"request_method", r.Header.Get("Access-Control-Request-Method"))
		writeError(w, r, http.StatusForbidden, "CORS: origin %q is not allowed", origin)
		return
	}
	c.log.Info("payloadsvc: CORS preflight allowed", "request_id", requestID(r), "origin", origin, "path", r.URL.Path,
		"request_method", r.Header.Get("Access-Control-Request-Method"))
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Credentials", "true")
	hdr.Set("Access-Control-Allow-Methods", corsAllowMethods)
	hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hdr.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}
