package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/bytesize"
)

// config is the binary's configuration: flags, each defaulting to a LONGHAUL_*
// environment variable, which defaults to a built-in value.
type config struct {
	listen          string
	store           string
	hash            string
	authTokensFile  string
	corsOrigins     listFlag
	tlsCert         string
	tlsKey          string
	maxBlobBytes    sizeFlag
	maxCodecBody    sizeFlag
	previewBytes    sizeFlag
	publicURL       string
	signingKeyFile  string
	downloadTTL     time.Duration
	tempDir         string
	requestTimeout  time.Duration
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        string

	maxConnections   intFlag
	allowedHosts     listFlag
	metricsListen    string
	metricsTokenFile string
	bodyReadTimeout  time.Duration
	writeStall       time.Duration
	maxInflightBytes sizeFlag
	maxPayloads      intFlag

	readDataDog    string
	readTemporalS3 listFlag

	oidcIssuer    string
	oidcAudiences listFlag
	jwksURL       string
	jwtClaim      string
	jwtHeader     string
	jwtClockSkew  time.Duration

	temporalAddress   string
	temporalNamespace listFlag
	maxRun            time.Duration
}

// flagDef describes one flag for parsing and for --help.
type flagDef struct {
	name, env, def, usage string
	value                 flag.Value
}

// defs lists the flags in --help order.
func (c *config) defs() []flagDef {
	return slices.Concat(c.accessDefs(), c.limitDefs(), c.operatorDefs())
}

// accessDefs: where the service listens, its store, and who may call it.
func (c *config) accessDefs() []flagDef {
	return []flagDef{
		{"listen", "", "127.0.0.1:8080", "address to listen on, host:port (port 0 picks a free one)", (*stringFlag)(&c.listen)},
		{"store", "", "mem://", "blob store URL: mem://, file:///dir, s3://bucket/prefix?endpoint=&region= (AWS credentials from " +
			"the default chain), gs://bucket/prefix?endpoint=&auth=none, azblob://container/prefix?account=&endpoint=, " +
			"or another payload service, https://host:port?token_file=", (*stringFlag)(&c.store)},
		{"hash", "", "blake3", "content address of the blobs /codec/encode writes: blake3 (references v2) or sha256 (v1, for " +
			"FIPS-approved algorithms, or while readers older than v2 remain); both are read and accepted by PUT",
			(*stringFlag)(&c.hash)},
		{"auth-tokens-file", "", "", `bearer tokens file, one "<token> <namespace>[,<namespace>...]" or "<token> *" per line, # ` +
			`comments; empty = no auth`, (*stringFlag)(&c.authTokensFile)},
		{"oidc-issuer", "", "", "OIDC issuer whose JWTs are accepted (exactly their iss; its keys via discovery unless --jwks-url); " +
			"with --auth-tokens-file, a listed token decides first", (*stringFlag)(&c.oidcIssuer)},
		{"oidc-audience", "", "", "aud a JWT must name (required with --oidc-issuer); repeatable (variable: comma-separated)",
			&c.oidcAudiences},
		{"jwks-url", "", "", "the issuer's JWKS URL, for issuers without OIDC discovery", (*stringFlag)(&c.jwksURL)},
		{"jwt-claim", "", "permissions", `JWT claim listing Temporal permissions, "<namespace>:read|write|worker|admin" or ` +
			`"temporal-system:<role>", "system:admin"`, (*stringFlag)(&c.jwtClaim)},
		{"jwt-header", "", "Authorization", `header carrying the JWT: Authorization as "Bearer <jwt>", any other (e.g. ` +
			`Cf-Access-Jwt-Assertion) the bare JWT`, (*stringFlag)(&c.jwtHeader)},
		{"jwt-clock-skew", "", "30s", "leeway on a JWT's exp, nbf and iat", (*durationFlag)(&c.jwtClockSkew)},
		{"cors-origin", "", "", "browser origin allowed to call the service, exactly scheme://host[:port], e.g. the Temporal UI's; " +
			"repeatable (variable: comma-separated)", &c.corsOrigins},
		{"tls-cert", "", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS", (*stringFlag)(&c.tlsCert)},
		{"tls-key", "", "", "TLS private key file (PEM)", (*stringFlag)(&c.tlsKey)},
	}
}

// limitDefs: sizes, links and timeouts.
func (c *config) limitDefs() []flagDef {
	return []flagDef{
		{"max-blob-bytes", "", "1GiB", "largest blob a PUT may store (bytes, or with KiB/MiB/GiB)", &c.maxBlobBytes},
		{"max-codec-body-bytes", "", "64MiB", "largest /encode or /decode request body", &c.maxCodecBody},
		{"preview-bytes", "", "1MiB", "decoded payloads over this size are shown to browsers as a preview with a download link; 0 = " +
			"all offloaded payloads, -1 = never", &c.previewBytes},
		{"public-url", "", "", "base URL people reach the service at, for download links (default: from each request's Host)",
			(*stringFlag)(&c.publicURL)},
		{"signing-key-file", "", "", "file with the key that signs download links (32+ random bytes; share it between replicas); " +
			"empty = a random key per process", (*stringFlag)(&c.signingKeyFile)},
		{"download-ttl", "", "15m", "how long a download link works", (*durationFlag)(&c.downloadTTL)},
		{"temp-dir", "", "", "deprecated, ignored: PUT bodies stream into the store while they are verified", (*stringFlag)(&c.tempDir)},
		{"request-timeout", "", "30m", "longest a request may take to read and to answer, bodies included",
			(*durationFlag)(&c.requestTimeout)},
		{"shutdown-timeout", "", "30s", "on SIGTERM or SIGINT, how long in-flight requests may take to finish",
			(*durationFlag)(&c.shutdownTimeout)},
		{"max-connections", "", "0", "open connections served at once; past it, /healthz still answers and the rest get 503 (0 = " +
			"auto: 3/4 of the open-file limit, at most 4096)", &c.maxConnections},
		{"allowed-host", "", "", "Host name the service answers to besides --public-url's, the --listen name, IP literals and " +
			"localhost; \"*\" = any; repeatable (variable: comma-separated). Without auth other Hosts are refused (DNS " +
			"rebinding); with auth any Host is answered unless this is set", &c.allowedHosts},
		{"metrics-listen", "", "", "serve /metrics on this separate address (host:port) instead of --listen",
			(*stringFlag)(&c.metricsListen)},
		{"metrics-token-file", "", "", "file with the bearer token /metrics requires (for the scraper); empty = /metrics is open to " +
			"whoever reaches it", (*stringFlag)(&c.metricsTokenFile)},
		{"body-read-timeout", "", "1m", "longest a request that does not upload a blob (codec, health, metrics) may take to send " +
			"its body", (*durationFlag)(&c.bodyReadTimeout)},
		{"write-stall-timeout", "", "30s", "longest a codec answer or download may wait for the client to read on; a client that stops " +
			"reading is cut off then and the bytes its request held of --max-inflight-bytes are released", (*durationFlag)(&c.writeStall)},
		{"max-inflight-bytes", "", "1GiB", "bytes that codec requests may hold at once, across requests (bodies and the payloads " +
			"they encode or decode); over it: 503 with Retry-After, or 413 for a request that could never fit", &c.maxInflightBytes},
		{"max-payloads-per-request", "", "10000", "payloads one codec request may hold; more is 413", &c.maxPayloads},
	}
}

// operatorDefs: foreign readers, the start-up retention check and logging.
func (c *config) operatorDefs() []flagDef {
	return []flagDef{
		{"read-datadog", "", "", "base URL of a DataDog large-payload service (temporal-large-payload-codec) whose v1/v2 " +
			"references the codec server decodes, e.g. http://lps:8577; empty = none", (*stringFlag)(&c.readDataDog)},
		{"read-temporal-s3", "", "", "S3 bucket of Temporal's S3 External Storage driver whose claims the codec server decodes; " +
			"repeatable (variable: comma-separated). AWS credentials, region and endpoint (AWS_ENDPOINT_URL_S3; path-style then) " +
			"from the default chain; empty = none", &c.readTemporalS3},
		{"temporal-address", "", "", "Temporal frontend host:port; when set, the service checks at start-up that the store's " +
			"lifecycle rules cannot delete blobs in use (namespace retention from DescribeNamespace) and logs a warning if they can",
			(*stringFlag)(&c.temporalAddress)},
		{"temporal-namespace", "", "", "namespace whose retention the start-up check reads (default: default); " +
			"repeatable (variable: comma-separated)", &c.temporalNamespace},
		{"max-run", "", "720h", "longest workflow run the start-up retention check assumes", (*durationFlag)(&c.maxRun)},
		{"log-format", "", "text", "log format: text or json", (*stringFlag)(&c.logFormat)},
		{"log-level", "", "info", "log level: debug, info, warn or error", (*stringFlag)(&c.logLevel)},
	}
}

// envName is a flag's variable: LONGHAUL_ and the name in upper snake case.
func envName(flagName string) string {
	return "LONGHAUL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig applies built-in defaults, then the environment, then the command line.
// It returns flag.ErrHelp for --help, having written the help to out.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("payloadsvc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defs := c.defs()
	for i := range defs {
		d := &defs[i]
		d.env = envName(d.name)
		if err := d.value.Set(d.def); err != nil {
			return nil, fmt.Errorf("built-in default of --%s: %w", d.name, err)
		}
		if v := getenv(d.env); v != "" {
			if err := d.value.Set(v); err != nil {
				return nil, fmt.Errorf("%s=%q: %w", d.env, v, err)
			}
		}
		if l, ok := d.value.(*listFlag); ok {
			l.fromDefault = true // the command line replaces, not extends, the variable
		}
		fs.Var(d.value, d.name, d.usage)
	}
	fs.Usage = func() { printHelp(out, defs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(out, defs)
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (all settings are flags)", fs.Arg(0))
	}
	return c, c.validate()
}

func (c *config) validate() error {
	switch {
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case c.logFormat != "text" && c.logFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	case c.hash != string(codec.BLAKE3) && c.hash != string(codec.SHA256):
		return fmt.Errorf("--hash %q: want blake3 or sha256", c.hash)
	case c.maxBlobBytes <= 0:
		return fmt.Errorf("--max-blob-bytes %d: want a positive size", c.maxBlobBytes)
	case c.maxCodecBody <= 0:
		return fmt.Errorf("--max-codec-body-bytes %d: want a positive size", c.maxCodecBody)
	case c.downloadTTL <= 0 || c.requestTimeout <= 0 || c.shutdownTimeout <= 0 || c.bodyReadTimeout <= 0 || c.writeStall <= 0:
		return errors.New("--download-ttl, --request-timeout, --shutdown-timeout, --body-read-timeout and --write-stall-timeout " +
			"must be positive")
	case c.maxConnections < 0:
		return fmt.Errorf("--max-connections %d: want 0 (auto) or a positive number", c.maxConnections)
	case c.maxInflightBytes <= 0 || c.maxPayloads <= 0:
		return errors.New("--max-inflight-bytes and --max-payloads-per-request must be positive")
	}
	if err := c.validateReaders(); err != nil {
		return err
	}
	return c.validateOIDC()
}

func printHelp(w io.Writer, defs []flagDef) {
	fmt.Fprint(w, `payloadsvc: longhaul's payload service. It stores offloaded Temporal payloads for
workers (a blob API used by blobclient.Client) and decodes them for the Temporal UI and
CLI (a codec server: --ui-codec-endpoint http://HOST/codec, or
--codec-endpoint 'http://HOST/codec/{namespace}').

Usage: payloadsvc [flags]

Every flag can also be set by its environment variable; a flag on the command line wins.

Flags:
`)
	for _, d := range defs {
		def := d.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s\n        %s\n        (default %s; env %s)\n", d.name, d.usage, def, d.env)
	}
	fmt.Fprint(w, `
Endpoints: PUT/GET/HEAD /v1/namespaces/{ns}/blobs/{blake3|sha256}/{hex} (references v2
and v1; each PUT verified by its hash before it is stored); POST /codec/encode,
/codec/decode (X-Namespace) and /codec/{ns}/encode|decode; GET /v1/download/... (signed
links); /healthz, /readyz (store reachable), /metrics (Prometheus).
Before exposing it beyond localhost, read "Exposing the service" in the README.
`)
}

type stringFlag string

func (s *stringFlag) String() string     { return string(*s) }
func (s *stringFlag) Set(v string) error { *s = stringFlag(v); return nil }

type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Set(v string) error {
	x, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want a duration like 90s or 15m")
	}
	*d = durationFlag(x)
	return nil
}

// listFlag is a repeatable flag; from a variable or default it is comma-separated.
type listFlag struct {
	values      []string
	fromDefault bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }
func (l *listFlag) Set(v string) error {
	if l.fromDefault {
		l.values, l.fromDefault = nil, false
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.values = append(l.values, s)
		}
	}
	return nil
}

type intFlag int

func (n *intFlag) String() string { return strconv.Itoa(int(*n)) }
func (n *intFlag) Set(v string) error {
	x, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("want a whole number")
	}
	*n = intFlag(x)
	return nil
}

// sizeFlag is a byte count: digits, optionally with B, KiB, MiB or GiB.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }
func (s *sizeFlag) Set(v string) error {
	n, err := bytesize.Parse(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}
