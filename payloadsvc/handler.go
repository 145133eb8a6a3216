package payloadsvc

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// handler is what NewHandler returns.
type handler struct {
	opts    Options
	store   driver.Store
	base    *codec.Codec
	codecs  sync.Map // namespace -> *codec.Codec
	ncodecs atomic.Int64
	auth    Authorizer
	origins map[string]bool
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time // tests pin the clock of download links

	storeName string // the store's String(): a path or bucket, scrubbed from client errors
	hosts     hostAllowlist
	inflight  *budget
	ready     readyCache
	chains    *sha256chain.Limiter // PUT bodies' intervals hashed on spare cores
	// verified holds the SHA-256 chains of the latest blobs whose PUT was verified
	// through one, sent with the blob on GET so the client verifies it on all cores.
	verified *lru.Cache[string, sha256chain.Chain]
}

// NewHandler returns the payload service for store: the blob API, the Temporal codec
// server, signed downloads of previewed payloads, health checks and metrics (see the
// package documentation for the routes). It is safe for concurrent use; run several
// behind a load balancer, the store is the only state (give them one Options.SigningKey).
func NewHandler(store driver.Store, opts Options) (http.Handler, error) {
	if store == nil {
		return nil, errors.New("payloadsvc: store is nil")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	origins, err := parseOrigins(opts.CORSOrigins)
	if err != nil {
		return nil, err
	}
	base, err := codec.New(store, opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: %w", err)
	}
	m, err := newMetrics(opts.Registry, opts.Gatherer, opts.MetricsToken)
	if err != nil {
		return nil, err
	}
	hosts, err := newHostAllowlist(opts)
	if err != nil {
		return nil, err
	}
	verified, err := lru.New[string, sha256chain.Chain](verifiedChains)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: chain cache: %w", err)
	}
	return &handler{
		opts:      opts,
		store:     store,
		base:      base,
		auth:      opts.Authorizer,
		origins:   origins,
		log:       opts.Logger,
		metrics:   m,
		now:       time.Now,
		storeName: storeString(store),
		hosts:     hosts,
		inflight:  newBudget(opts.MaxInflightBytes),
		chains:    sha256chain.NewLimiter(min(runtime.GOMAXPROCS(0), maxChainSlots)),
		verified:  verified,
	}, nil
}

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
	hasNS     bool // the path names a namespace (possibly empty or invalid)
	digest    string
}

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
	case n >= 6 && segs[1] == "v1" && segs[2] == "namespaces" && segs[n-3] == "blobs" && segs[n-2] == "sha256":
		return route{name: routeBlob, namespace: strings.Join(segs[3:n-3], "/"), hasNS: true, digest: segs[n-1]}
	case n >= 5 && segs[1] == "v1" && segs[2] == "download" && segs[n-2] == "sha256":
		return route{name: routeDownload, namespace: strings.Join(segs[3:n-2], "/"), hasNS: true, digest: segs[n-1]}
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

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.observe(w, r, h.serve)
}

// serve runs inside the access log and metrics: CORS (preflights answered before
// auth), routing, method check, then the route's handler.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	rt := parseRoute(r.URL.EscapedPath())
	if rt.name != routeBlob || r.Method != http.MethodPut {
		// Only blob uploads stream long bodies; the rest get a short deadline.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.opts.BodyReadTimeout))
	}
	if rt.name != routeHealthz && !h.hosts.allows(r.Host) {
		info.route = rt.name
		h.log.Warn("payloadsvc: request for a Host that is not allowed (see --allowed-host)", "request_id", info.id, "host", truncate(r.Host, 100))
		writeError(w, r, http.StatusMisdirectedRequest, "Host is not allowed here (the operator can add it with --allowed-host or AllowedHosts)")
		return
	}
	if h.cors(w, r) {
		info.route = routePreflight
		return
	}
	info.route = rt.name
	if rt.name == routeMetrics && h.opts.NoMetricsRoute {
		rt.name = routeUnknown
	}
	if rt.name == routeUnknown {
		writeError(w, r, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
		return
	}
	methods := allowedMethods[rt.name]
	if !contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, r, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(methods, ", "))
		return
	}
	switch rt.name {
	case routeHealthz:
		h.healthz(w, r)
	case routeReadyz:
		h.readyz(w, r)
	case routeMetrics:
		h.serveMetrics(w, r)
	case routeBlob:
		h.serveBlob(w, r, rt)
	case routeEncode, routeDecode:
		h.serveCodec(w, r, rt)
	case routeDownload:
		h.serveDownload(w, r, rt)
	}
}

// namespaceFor validates the request's namespace and authorizes the caller for it,
// answering the error itself; ok reports whether to go on.
func (h *handler) namespaceFor(w http.ResponseWriter, r *http.Request, ns string) (ok bool) {
	if err := driver.ValidateNamespace(ns); err != nil {
		writeErrorLogged(w, r, http.StatusBadRequest, "bad namespace: "+err.Error(), "bad namespace")
		return false
	}
	requestInfoFrom(r.Context()).namespace = ns // valid: safe to log
	if h.auth == nil {
		requestInfoFrom(r.Context()).authMethod = "none"
		return true
	}
	if err := h.authorize(r, ns); err != nil {
		h.authFailure(w, r, ns, err)
		return false
	}
	return true
}

// maxCachedCodecs bounds the per-namespace codecs kept, in case an open service is
// sent many namespaces; past it a codec is made per request (a cheap copy).
const maxCachedCodecs = 1024

// codecFor returns the codec for a namespace, one per namespace, sharing the cache.
func (h *handler) codecFor(ns string) (*codec.Codec, error) {
	if c, ok := h.codecs.Load(ns); ok {
		return c.(*codec.Codec), nil
	}
	c, err := h.base.WithNamespace(ns)
	if err != nil {
		return nil, err
	}
	if h.ncodecs.Load() >= maxCachedCodecs {
		return c, nil
	}
	actual, loaded := h.codecs.LoadOrStore(ns, c)
	if !loaded {
		h.ncodecs.Add(1)
	}
	return actual.(*codec.Codec), nil
}

// storeString is how the codec names store in its errors.
func storeString(store driver.Store) string {
	if st, ok := store.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", store)
}

// truncate shortens s to n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
