package payloadsvc

import (
	"cmp"
	"crypto/rand"
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
	// Registry receives the service's metrics and is what /metrics serves; default: a
	// new registry with the Go and process collectors.
	Registry *prometheus.Registry
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxBlobBytes < 0:
		return o, fmt.Errorf("payloadsvc: Options.MaxBlobBytes is negative (%d)", o.MaxBlobBytes)
	case o.MaxCodecBodyBytes < 0:
		return o, fmt.Errorf("payloadsvc: Options.MaxCodecBodyBytes is negative (%d)", o.MaxCodecBodyBytes)
	case o.DownloadTTL < 0:
		return o, fmt.Errorf("payloadsvc: Options.DownloadTTL is negative (%s)", o.DownloadTTL)
	case o.SigningKey != nil && len(o.SigningKey) < 16:
		return o, fmt.Errorf("payloadsvc: Options.SigningKey is %d bytes, want at least 16", len(o.SigningKey))
	}
	o.MaxBlobBytes = cmp.Or(o.MaxBlobBytes, DefaultMaxBlobBytes)
	o.MaxCodecBodyBytes = cmp.Or(o.MaxCodecBodyBytes, DefaultMaxCodecBodyBytes)
	o.PreviewBytes = cmp.Or(o.PreviewBytes, DefaultPreviewBytes)
	o.DownloadTTL = cmp.Or(o.DownloadTTL, DefaultDownloadTTL)
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
	return o, nil
}
