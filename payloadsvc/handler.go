package payloadsvc

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// handler is what NewHandler returns: the composed stack, and the state its tests look
// into.
type handler struct {
	http.Handler
	inflight *budget
	metrics  *metrics
	codecs   *codecs
	links    *links
	blobs    *blobAPI
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
	p := &parts{opts: opts, log: opts.Logger}
	if p.origins, err = parseOrigins(opts.CORSOrigins); err != nil {
		return nil, err
	}
	base, err := codec.New(store, opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: %w", err)
	}
	if p.metrics, err = newMetrics(opts.Registry, opts.Gatherer, opts.MetricsToken); err != nil {
		return nil, err
	}
	if p.hosts, err = newHostAllowlist(opts); err != nil {
		return nil, err
	}
	p.fail = &storeFailures{log: opts.Logger, counter: p.metrics.storeErrors, storeName: storeString(store), maxBlob: opts.Codec.MaxSize}
	if p.blobs, err = newBlobAPI(store, opts.MaxBlobBytes, p.fail, opts.Logger); err != nil {
		return nil, err
	}
	p.codecs = &codecs{base: base}
	p.budget = newBudget(opts.MaxInflightBytes)
	p.links = &links{key: opts.SigningKey, ttl: opts.DownloadTTL, publicURL: opts.PublicURL, now: time.Now}
	p.health = &health{store: store, interval: opts.ReadyInterval, log: opts.Logger}
	p.refusals = refusals{log: opts.Logger, counter: p.metrics.authRefusals}
	return &handler{Handler: p.compose(), inflight: p.budget, metrics: p.metrics, codecs: p.codecs, links: p.links, blobs: p.blobs}, nil
}

// parts is the state of the layers and routes, each part owned by one of them.
type parts struct {
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	hosts    hostAllowlist
	origins  map[string]bool
	refusals refusals
	codecs   *codecs
	budget   *budget
	links    *links
	fail     *storeFailures
	blobs    *blobAPI
	health   *health
}

// compose stacks the service, outermost layer first. The order is the point:
//   - the access log and metrics see every answer, a panic's 500 included;
//   - panic recovery sits right under them, so the 500 it writes is logged;
//   - the route is parsed before anything that logs or dispatches on it (it also sets
//     the short body deadline of all but blob uploads);
//   - the Host check comes before CORS, so a DNS-rebinding page gets no CORS answer;
//   - CORS answers preflights before any auth: browsers send no credentials on them;
//   - the router answers 404 and 405 before anything looks at the request further;
//   - on each route the namespace is validated before auth, which grants namespaces
//     (a download's auth is its link's signature); a codec request's Content-Type is
//     checked first, as a browser's cross-site POST is refused before anything else;
//   - admission comes after auth, so a caller without access makes the service neither
//     read its body nor take the in-flight budget.
//
// The connection cap is not a layer here: it is the listener's (ConnLimit), since it
// answers connections the handler must never see.
func (p *parts) compose() http.Handler {
	opts := p.opts
	auth := requireAuth(opts.Authorizer, p.refusals, p.log)
	admit := func(next http.Handler) http.Handler {
		return &admission{next: next, budget: p.budget, maxBody: opts.MaxCodecBodyBytes, maxPayloads: opts.MaxPayloadsPerRequest,
			maxBlob: opts.MaxBlobBytes, readTimeout: opts.BodyReadTimeout, previews: previewPolicy(opts.PreviewBytes)}
	}
	checkLink := func(next http.Handler) http.Handler {
		return &linkAuth{next: next, links: p.links, refusals: p.refusals}
	}
	codecSrv := &codecServer{fail: p.fail, previews: previewPolicy(opts.PreviewBytes), links: p.links, stall: opts.WriteStallTimeout}
	codecRoute := stack(codecSrv, requireJSON, scopeNamespace, auth, p.codecs.wrap, admit)
	routes := router{
		routeBlob:     stack(p.blobs, scopeNamespace, auth),
		routeEncode:   codecRoute,
		routeDecode:   codecRoute,
		routeDownload: stack(&downloads{budget: p.budget, fail: p.fail, stall: opts.WriteStallTimeout}, scopeNamespace, checkLink, p.codecs.wrap),
		routeHealthz:  http.HandlerFunc(p.health.healthz),
		routeReadyz:   http.HandlerFunc(p.health.readyz),
	}
	if !opts.NoMetricsRoute {
		routes[routeMetrics] = p.metrics.http
	}
	return stack(routes,
		logRequests(p.log, p.metrics),
		recoverPanics(p.log),
		parseRoutes(opts.BodyReadTimeout),
		allowHosts(p.hosts, p.log),
		allowOrigins(p.origins, p.log),
	)
}

// stack wraps h in layers, the first outermost.
func stack(h http.Handler, layers ...func(http.Handler) http.Handler) http.Handler {
	for i := len(layers) - 1; i >= 0; i-- {
		h = layers[i](h)
	}
	return h
}
