package payloadsvc

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBlobBytes      = 1 << 30
	DefaultMaxCodecBodyBytes = 64 << 20
	DefaultPreviewBytes      = 1 << 20
	DefaultDownloadTTL       = 15 * time.Minute
	DefaultCodecTimeout      = 15 * time.Second
	DefaultMaxInflightBytes  = 1 << 30
	DefaultMaxPayloads       = 10000
	DefaultBodyReadTimeout   = time.Minute
	DefaultReadyInterval     = 5 * time.Second
	DefaultWriteStallTimeout = 30 * time.Second
)

// Options configures NewHandler. The zero value means the defaults: no authorization,
// no CORS origins, a random signing key.
type Options struct {
	// Codec configures the codec behind the codec-server endpoints. Its Namespace is
	// ignored: every request is served by a codec for the request's namespace; all of
	// them share one decode cache (CacheBytes, default 128 MiB), scoped by namespace, so
	// the UI's repeated decodes of a page do not reach the store. One default differs:
	// Codec.Timeout (one store operation with the store driver's retries) is 15s, so a
	// person waiting on the UI gets a 503 for a store that is down rather than minutes of
	// retries.
	Codec codec.Options
	// Authorizer decides who may use a namespace; nil lets everyone use every namespace.
	Authorizer Authorizer
	// CORSOrigins are the browser origins (scheme://host[:port], exactly) allowed to call
	// the service, e.g. the Temporal UI's.
	CORSOrigins []string
	// MaxBlobBytes caps one PUT body; default 1 GiB.
	MaxBlobBytes int64
	// MaxCodecBodyBytes caps one /encode or /decode request body; default 64 MiB.
	MaxCodecBodyBytes int64
	// PreviewBytes: a decoded payload whose data is over it is answered to a browser
	// (a request with an Origin header) as a preview with a download link, not whole;
	// default 1 MiB; negative means never. A request can force it either way with
	// the X-Longhaul-Preview header ("1" or "0"). Programmatic callers (the CLI, the
	// SDK's remote codec) get whole payloads unless they ask, since a preview in place
	// of the data would feed a program the wrong value.
	PreviewBytes int
	// PublicURL is the service's base URL as people reach it, for download links, e.g.
	// "https://payloads.example.com"; default: derived from each request.
	PublicURL string
	// SigningKey signs download links (HMAC-SHA256); default: a random key, so links
	// die with the process and do not work across replicas. Use 32 random bytes.
	SigningKey []byte
	// DownloadTTL is how long a download link works; default 15 minutes.
	DownloadTTL time.Duration
	// Deprecated: TempDir is unused: PUT bodies stream into the store while they are
	// verified, with no temporary file.
	TempDir string
	// Logger receives the access log and errors; default slog.Default().
	Logger *slog.Logger
	// Registry receives the service's metrics; default: a new registry with the Go and
	// process collectors. prometheus.DefaultRegisterer works.
	Registry prometheus.Registerer
	// Gatherer is what /metrics serves; default: Registry when it is a Gatherer too (a
	// *prometheus.Registry, prometheus.DefaultRegisterer), else the new registry.
	Gatherer prometheus.Gatherer
	// MetricsToken, if set, is the bearer token /metrics requires (for the scraper);
	// without it /metrics is open to anyone who can reach the service.
	MetricsToken string
	// NoMetricsRoute drops /metrics from the handler, for a program that serves Gatherer
	// on another address (payloadsvc --metrics-listen).
	NoMetricsRoute bool

	// AllowedHosts are the Host names (without port; "*" for any) the service answers
	// to. A Host not listed is refused with 421, which defeats DNS rebinding: a web page
	// that points its own name at this service sends that name. Loopback names, IP
	// literals and PublicURL's host are always allowed. When empty: any Host if an
	// Authorizer is set, else only those always allowed.
	AllowedHosts []string
	// MaxInflightBytes bounds the bytes that codec requests hold at once, across
	// requests: request bodies plus the payloads they encode or decode (a decode counts
	// what its references claim). A request that does not fit now is answered 503 with
	// Retry-After; one that could never fit, 413. Memory use is a small multiple of it.
	// Default 1 GiB.
	MaxInflightBytes int64
	// MaxPayloadsPerRequest bounds the payloads in one codec request (counted while the
	// body is scanned, before any is built); more is 413. Default 10,000.
	MaxPayloadsPerRequest int
	// BodyReadTimeout bounds the reading of a request body on routes that do not stream
	// blobs (the codec, health, metrics), so slow senders cannot hold connections; blob
	// PUTs are bounded by the server's ReadTimeout. Default 1 minute.
	BodyReadTimeout time.Duration
	// WriteStallTimeout bounds how long an answer of the codec or download routes may
	// wait for the client to read on: a client that stops reading is cut off then, and
	// the bytes the request held of MaxInflightBytes are released, instead of at the
	// server's write timeout. Default 30 seconds.
	WriteStallTimeout time.Duration
	// ReadyInterval: /readyz probes the store at most once per interval and answers
	// from the last probe in between; default 5 seconds.
	ReadyInterval time.Duration
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxBlobBytes < 0:
		return o, fmt.Errorf("payloadsvc: Options.MaxBlobBytes is negative (%d)", o.MaxBlobBytes)
	case o.MaxCodecBodyBytes < 0:
		return o, fmt.Errorf("payloadsvc: Options.MaxCodecBodyBytes is negative (%d)", o.MaxCodecBodyBytes)
	case o.DownloadTTL < 0:
		return o, fmt.Errorf("payloadsvc: Options.DownloadTTL is negative (%s)", o.DownloadTTL)
	case o.MaxInflightBytes < 0 || o.MaxPayloadsPerRequest < 0 || o.BodyReadTimeout < 0 || o.ReadyInterval < 0 || o.WriteStallTimeout < 0:
		return o, errors.New("payloadsvc: Options.MaxInflightBytes, MaxPayloadsPerRequest, BodyReadTimeout, ReadyInterval and " +
			"WriteStallTimeout must not be negative")
	case o.SigningKey != nil && len(o.SigningKey) < 16:
		return o, fmt.Errorf("payloadsvc: Options.SigningKey is %d bytes, want at least 16", len(o.SigningKey))
	}
	o.MaxBlobBytes = cmp.Or(o.MaxBlobBytes, DefaultMaxBlobBytes)
	o.MaxCodecBodyBytes = cmp.Or(o.MaxCodecBodyBytes, DefaultMaxCodecBodyBytes)
	o.PreviewBytes = cmp.Or(o.PreviewBytes, DefaultPreviewBytes)
	o.DownloadTTL = cmp.Or(o.DownloadTTL, DefaultDownloadTTL)
	o.MaxInflightBytes = cmp.Or(o.MaxInflightBytes, DefaultMaxInflightBytes)
	o.MaxPayloadsPerRequest = cmp.Or(o.MaxPayloadsPerRequest, DefaultMaxPayloads)
	o.BodyReadTimeout = cmp.Or(o.BodyReadTimeout, DefaultBodyReadTimeout)
	o.ReadyInterval = cmp.Or(o.ReadyInterval, DefaultReadyInterval)
	o.WriteStallTimeout = cmp.Or(o.WriteStallTimeout, DefaultWriteStallTimeout)
	if o.SigningKey == nil {
		o.SigningKey = make([]byte, 32)
		_, _ = rand.Read(o.SigningKey) // never fails on supported platforms
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return o, fmt.Errorf("payloadsvc: Options.PublicURL %q is not an http(s) base URL", o.PublicURL)
		}
		o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Codec.Timeout == 0 {
		o.Codec.Timeout = DefaultCodecTimeout
	}
	if o.Codec.Logger == nil {
		o.Codec.Logger = o.Logger
	}
	if o.Codec.MaxSize == 0 {
		o.Codec.MaxSize = o.MaxBlobBytes // what the codec stores or reads is a blob
	}
	return o, nil
}
