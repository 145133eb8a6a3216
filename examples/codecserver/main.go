// Command codecserver embeds the longhaul payload service in a program of its own, with a
// custom Authorizer: stateless team tokens signed with HMAC, the way a platform team might
// hand out credentials without a tokens file.
//
// A token is "<team>.<hex HMAC-SHA256(secret, team)>"; each team may use the namespaces
// given with -team. The Temporal UI sends it as "Authorization: Bearer <token>".
//
//	codecserver -listen 127.0.0.1:8089 -store file:///var/lib/longhaul -secret-file /etc/longhaul/secret \
//	    -team dba=migrations,backfills -team web=default -cors-origin http://localhost:8233
//	codecserver -print-token dba -secret-file /etc/longhaul/secret
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// TeamAuthorizer admits "Bearer <team>.<hmac>" tokens for the namespaces of the team.
type TeamAuthorizer struct {
	secret []byte
	teams  map[string][]string // team -> namespaces
}

// Token returns the token of a team.
func (a *TeamAuthorizer) Token(team string) string {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(team))
	return team + "." + hex.EncodeToString(m.Sum(nil))
}

// Authorize implements payloadsvc.Authorizer.
func (a *TeamAuthorizer) Authorize(r *http.Request, namespace string) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fmt.Errorf("%w: no bearer token", payloadsvc.ErrUnauthenticated)
	}
	team, _, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(tok), []byte(a.Token(team))) {
		return fmt.Errorf("%w: bad team token", payloadsvc.ErrUnauthenticated)
	}
	if !slices.Contains(a.teams[team], namespace) {
		return fmt.Errorf("%w: team %s may not use namespace %s", payloadsvc.ErrForbidden, team, namespace)
	}
	return nil
}

var _ payloadsvc.Authorizer = (*TeamAuthorizer)(nil)

type teamFlag map[string][]string

func (f teamFlag) String() string { return fmt.Sprint(map[string][]string(f)) }

func (f teamFlag) Set(v string) error {
	team, nss, ok := strings.Cut(v, "=")
	if !ok || team == "" || strings.Contains(team, ".") || nss == "" {
		return fmt.Errorf("want team=namespace[,namespace...], got %q", v)
	}
	for _, ns := range strings.Split(nss, ",") {
		if err := driver.ValidateNamespace(ns); err != nil {
			return err
		}
		f[team] = append(f[team], ns)
	}
	return nil
}

type originsFlag []string

func (f *originsFlag) String() string     { return strings.Join(*f, ",") }
func (f *originsFlag) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	teams := teamFlag{}
	var origins originsFlag
	listen := flag.String("listen", "127.0.0.1:8089", "address to listen on")
	storeURL := flag.String("store", "mem://", "store URL: mem://, file:///dir or s3://bucket/prefix?endpoint=&region=")
	secretFile := flag.String("secret-file", "", "file holding the HMAC secret of team tokens (required)")
	printToken := flag.String("print-token", "", "print the token of this team and exit")
	flag.Var(teams, "team", "team=namespace[,namespace...] (repeatable)")
	flag.Var(&origins, "cors-origin", "browser origin allowed to call the codec endpoints, e.g. the Temporal UI (repeatable)")
	flag.Parse()

	secret, err := os.ReadFile(*secretFile)
	if err != nil || len(strings.TrimSpace(string(secret))) < 16 {
		fmt.Fprintln(os.Stderr, "codecserver: -secret-file must name a file with at least 16 bytes of secret")
		os.Exit(2)
	}
	auth := &TeamAuthorizer{secret: []byte(strings.TrimSpace(string(secret))), teams: teams}
	if *printToken != "" {
		fmt.Println(auth.Token(*printToken))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *listen, *storeURL, auth, origins); err != nil {
		fmt.Fprintln(os.Stderr, "codecserver:", err)
		os.Exit(1)
	}
}

// newHandler is the payload service with the team authorizer.
func newHandler(store driver.Store, auth payloadsvc.Authorizer, origins []string, logger *slog.Logger) (http.Handler, error) {
	return payloadsvc.NewHandler(store, payloadsvc.Options{
		Authorizer:  auth,
		CORSOrigins: origins,
		Logger:      logger,
	})
}

// storeMux opens -store URLs with the drivers this program chooses to link: the
// Google Cloud and Azure SDKs are not in this binary (gcsstore.Open and
// azblobstore.Open would bring them).
func storeMux() *storeurl.Mux {
	var m storeurl.Mux
	m.Register(memstore.Scheme, memstore.Open)
	m.Register(filestore.Scheme, filestore.Open)
	m.Register(s3store.Scheme, s3store.Open)
	return &m
}

func serve(ctx context.Context, addr, storeURL string, auth payloadsvc.Authorizer, origins []string) error {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	store, err := storeMux().Open(ctx, storeURL)
	if err != nil {
		return err
	}
	h, err := newHandler(store, auth, origins, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("codecserver listening", "addr", addr, "store", storeURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
