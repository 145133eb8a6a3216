package payloadsvc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Route names, used as the metrics label and in the access log.
const (
	routeBlob      = "blob"
	routeEncode    = "encode"
	routeDecode    = "decode"
	routeDownload  = "download"
	routeHealthz   = "healthz"
	routeReadyz    = "readyz"
	routeMetrics   = "metrics"
	routePreflight = "preflight"
	routeUnknown   = "unknown"
)

// route is a parsed request path. Segments are unescaped one by one, so a namespace
// "a%2Fb" arrives as "a/b" and is rejected by validation rather than re-routed.
type route struct {
	name      string
	namespace string
	hasNS     bool   // the path names a namespace (possibly empty or invalid)
	algorithm string // the hash the digest is of: driver.SHA256 or driver.BLAKE3
	digest    string
}

// isContentHash reports whether a path segment names a hash of content addresses.
func isContentHash(seg string) bool { return seg == driver.SHA256 || seg == driver.BLAKE3 }

func parseRoute(escapedPath string) route {
	segs := strings.Split(escapedPath, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	n := len(segs)
	if n < 2 || segs[0] != "" {
		return route{name: routeUnknown}
	}
	switch {
	case n == 2 && segs[1] == "healthz":
		return route{name: routeHealthz}
	case n == 2 && segs[1] == "readyz":
		return route{name: routeReadyz}
	case n == 2 && segs[1] == "metrics":
		return route{name: routeMetrics}
	case n >= 6 && segs[1] == "v1" && segs[2] == "namespaces" && segs[n-3] == "blobs" && isContentHash(segs[n-2]):
		return route{name: routeBlob, namespace: strings.Join(segs[3:n-3], "/"), hasNS: true, algorithm: segs[n-2], digest: segs[n-1]}
	case n >= 5 && segs[1] == "v1" && segs[2] == "download" && isContentHash(segs[n-2]):
		return route{name: routeDownload, namespace: strings.Join(segs[3:n-2], "/"), hasNS: true, algorithm: segs[n-2], digest: segs[n-1]}
	case n >= 3 && segs[1] == "codec" && (segs[n-1] == "encode" || segs[n-1] == "decode"):
		// Temporal's protocol matches on the suffix; empty segments ("/codec//decode",
		// from an endpoint with a trailing slash) are tolerated.
		var ns []string
		for _, s := range segs[2 : n-1] {
			if s != "" {
				ns = append(ns, s)
			}
		}
		name := routeEncode
		if segs[n-1] == "decode" {
			name = routeDecode
		}
		return route{name: name, namespace: strings.Join(ns, "/"), hasNS: len(ns) > 0}
	}
	return route{name: routeUnknown}
}

// allowedMethods lists each route's methods, for 405 and its Allow header.
var allowedMethods = map[string][]string{
	routeBlob:     {http.MethodGet, http.MethodHead, http.MethodPut},
	routeEncode:   {http.MethodPost},
	routeDecode:   {http.MethodPost},
	routeDownload: {http.MethodGet, http.MethodHead},
	routeHealthz:  {http.MethodGet, http.MethodHead},
	routeReadyz:   {http.MethodGet, http.MethodHead},
	routeMetrics:  {http.MethodGet, http.MethodHead},
}

// parseRoutes parses the request's path into requestInfo for the layers below, and gives
// every request but a blob upload a short deadline for its body: only uploads stream
// long bodies.
func parseRoutes(bodyReadTimeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt := parseRoute(r.URL.EscapedPath())
			if rt.name != routeBlob || r.Method != http.MethodPut {
				_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
			}
			info := requestInfoFrom(r.Context())
			info.rt, info.route = rt, rt.name
			next.ServeHTTP(w, r)
		})
	}
}

// router answers a path it does not know with 404 and a method its route does not
// take with 405, and hands the rest to the route's handler.
type router map[string]http.Handler

func (rs router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := requestInfoFrom(r.Context()).rt.name
	next, ok := rs[name]
	if !ok {
		writeError(w, r, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
		return
	}
	methods := allowedMethods[name]
	if !slices.Contains(methods, r.Method) {
		allow := strings.Join(methods, ", ")
		w.Header().Set("Allow", allow)
		writeError(w, r, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)
		return
	}
	next.ServeHTTP(w, r)
}
