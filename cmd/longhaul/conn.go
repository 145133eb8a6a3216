package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
)

// conn holds the connection flags, named as the temporal CLI names them and read from
// the same environment variables (those of go.temporal.io/sdk/contrib/envconfig).
type conn struct {
	address, namespace, apiKey            string
	tls, disableHostVerification          bool
	certPath, keyPath, caPath, serverName string
}

// envFlag is one flag with its environment variable.
type envFlag struct{ flag, env string }

var connEnv = []envFlag{
	{"address", "TEMPORAL_ADDRESS"}, {"namespace", "TEMPORAL_NAMESPACE"}, {"api-key", "TEMPORAL_API_KEY"},
	{"tls", "TEMPORAL_TLS"}, {"tls-cert-path", "TEMPORAL_TLS_CLIENT_CERT_PATH"}, {"tls-key-path", "TEMPORAL_TLS_CLIENT_KEY_PATH"},
	{"tls-ca-path", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"}, {"tls-server-name", "TEMPORAL_TLS_SERVER_NAME"},
	{"tls-disable-host-verification", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"},
}

func (c *conn) flags(f *pflag.FlagSet, withNamespace bool) {
	f.StringVar(&c.address, "address", "localhost:7233", "Temporal Service gRPC endpoint (env TEMPORAL_ADDRESS)")
	if withNamespace {
		f.StringVarP(&c.namespace, "namespace", "n", "default", "Temporal Service Namespace (env TEMPORAL_NAMESPACE)")
	}
	f.StringVar(&c.apiKey, "api-key", "", "API key for requests; implies --tls (env TEMPORAL_API_KEY)")
	f.BoolVar(&c.tls, "tls", false, "enable TLS; implied by the other TLS options and --api-key (env TEMPORAL_TLS)")
	f.StringVar(&c.certPath, "tls-cert-path", "", "path to the x509 client certificate (env TEMPORAL_TLS_CLIENT_CERT_PATH)")
	f.StringVar(&c.keyPath, "tls-key-path", "", "path to the x509 client private key (env TEMPORAL_TLS_CLIENT_KEY_PATH)")
	f.StringVar(&c.caPath, "tls-ca-path", "", "path to the server CA certificate (env TEMPORAL_TLS_SERVER_CA_CERT_PATH)")
	f.StringVar(&c.serverName, "tls-server-name", "", "override the TLS server name (env TEMPORAL_TLS_SERVER_NAME)")
	f.BoolVar(&c.disableHostVerification, "tls-disable-host-verification", false,
		"disable TLS host-name verification (env TEMPORAL_TLS_DISABLE_HOST_VERIFICATION)")
}

// applyEnv sets each flag not given on the command line from its environment variable.
func applyEnv(f *pflag.FlagSet) error {
	for _, e := range connEnv {
		fl := f.Lookup(e.flag)
		v, ok := os.LookupEnv(e.env)
		if fl == nil || fl.Changed || !ok || v == "" {
			continue
		}
		if err := fl.Value.Set(v); err != nil {
			return usageErr(fmt.Errorf("%s=%q: %w", e.env, v, err))
		}
	}
	return nil
}

func (c *conn) tlsConfig() (*tls.Config, error) {
	if !c.tls && c.apiKey == "" && c.certPath == "" && c.keyPath == "" && c.caPath == "" && c.serverName == "" && !c.disableHostVerification {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: c.serverName, InsecureSkipVerify: c.disableHostVerification} //nolint:gosec // operator's choice
	if (c.certPath == "") != (c.keyPath == "") {
		return nil, usageErr(fmt.Errorf("--tls-cert-path and --tls-key-path go together"))
	}
	if c.certPath != "" {
		cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if c.caPath != "" {
		pem, err := os.ReadFile(c.caPath)
		if err != nil {
			return nil, fmt.Errorf("tls CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls CA %s: no PEM certificate in it", c.caPath)
		}
	}
	return cfg, nil
}

// dial connects to Temporal.
func (c *conn) dial(ctx context.Context) (client.Client, error) {
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := client.Options{HostPort: c.address, Namespace: c.namespace, Logger: quietLogger{}}
	opts.ConnectionOptions.TLS = tlsCfg
	if c.apiKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(c.apiKey)
	}
	cl, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", c.address, err)
	}
	return cl, nil
}

// quietLogger drops the SDK's client logs: the command reports what matters itself.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
