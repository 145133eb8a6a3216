package payloadsvc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// ErrUnauthenticated is returned (wrapped) by an Authorizer when the request carries no
// valid credentials; the service answers 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrForbidden is returned (wrapped) by an Authorizer when the caller is known but may
// not use the namespace; the service answers 403.
var ErrForbidden = errors.New("forbidden")

// Authorizer decides whether a request may use a namespace. TokenAuthorizer (static
// tokens) and OIDCAuthorizer (JWTs, Temporal's permission claims) implement it, and a
// Chain combines them; implement AccessAuthorizer to tell reads from writes and name
// the caller in the audit log. Errors wrapping ErrUnauthenticated answer 401, errors
// wrapping ErrForbidden 403; any other error (say, a key server that is down) answers
// 503. Messages reach the caller and the log, so they must not contain secrets.
type Authorizer interface {
	Authorize(r *http.Request, namespace string) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(r *http.Request, namespace string) error

// Authorize calls f(r, namespace).
func (f AuthorizerFunc) Authorize(r *http.Request, namespace string) error { return f(r, namespace) }

// TokenAuthorizer admits bearer tokens, each to a set of namespaces or to all. Tokens are
// kept and compared as SHA-256 digests in constant time, so neither their content nor
// their length leaks through timing.
type TokenAuthorizer struct {
	entries  []tokenEntry
	warnings []string
}

// MinTokenLength is the length under which a token is guessable enough to warn about
// (see TokenAuthorizer.Warnings). Use 32 random characters or more.
const MinTokenLength = 16

// Warnings lists what is weak about the tokens, for the program to log at start:
// tokens shorter than MinTokenLength, a tokens file that others can read.
func (a *TokenAuthorizer) Warnings() []string { return a.warnings }

type tokenEntry struct {
	digest     [sha256.Size]byte
	all        bool
	namespaces map[string]bool
}

var _ AccessAuthorizer = (*TokenAuthorizer)(nil)

// NewTokenAuthorizer returns an authorizer for tokens mapped to namespaces; a namespace
// "*" admits the token everywhere.
func NewTokenAuthorizer(tokens map[string][]string) (*TokenAuthorizer, error) {
	a := &TokenAuthorizer{}
	for tok, nss := range tokens {
		if err := a.add(tok, nss); err != nil {
			return nil, fmt.Errorf("payloadsvc: %w", err)
		}
	}
	return a, nil
}

func (a *TokenAuthorizer) add(token string, namespaces []string) error {
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return errors.New("token is empty or has whitespace")
	}
	if len(namespaces) == 0 {
		return errors.New("token has no namespaces (use * for all)")
	}
	e := tokenEntry{digest: sha256.Sum256([]byte(token)), namespaces: map[string]bool{}}
	for _, ns := range namespaces {
		if ns == "*" {
			e.all = true
			continue
		}
		if err := driver.ValidateNamespace(ns); err != nil {
			return err
		}
		e.namespaces[ns] = true
	}
	for _, old := range a.entries {
		if subtle.ConstantTimeCompare(old.digest[:], e.digest[:]) == 1 {
			return errors.New("token is listed twice")
		}
	}
	a.entries = append(a.entries, e)
	return nil
}

// Authorize admits a request whose "Authorization: Bearer <token>" names a token that
// covers namespace.
func (a *TokenAuthorizer) Authorize(r *http.Request, namespace string) error {
	_, err := a.AuthorizeAccess(r, namespace, AccessWrite)
	return err
}

// AuthorizeAccess is Authorize naming the token (by digest) for the audit trail; a
// token allows reads and writes. A request without a bearer token, or with one not
// listed, is refused with ErrNotRecognized, so a Chain asks its next authorizer.
func (a *TokenAuthorizer) AuthorizeAccess(r *http.Request, namespace string, _ Access) (Identity, error) {
	tok, ok := bearerToken(r)
	if !ok {
		return Identity{}, notRecognized(ReasonNoCredential, "missing bearer token (send Authorization: Bearer <token>)")
	}
	d := sha256.Sum256([]byte(tok))
	var match *tokenEntry
	for i := range a.entries { // every entry, so timing does not tell which matched
		if subtle.ConstantTimeCompare(a.entries[i].digest[:], d[:]) == 1 {
			match = &a.entries[i]
		}
	}
	if match == nil {
		return Identity{}, notRecognized(ReasonUnknownToken, "bearer token is not valid")
	}
	id := Identity{Subject: "sha256:" + hex.EncodeToString(d[:4]), Method: "token"}
	if !match.all && !match.namespaces[namespace] {
		return Identity{}, forbidden(ReasonNamespace, id.Subject, "token does not cover namespace %q", namespace)
	}
	return id, nil
}

// bearerToken returns the token of "Authorization: Bearer <token>" (scheme in any case).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// LoadTokensFile reads a tokens file: one token per line, followed by the namespaces it
// may use, comma-separated, or "*" for all:
//
//	# team A's workers
//	3f9a...c1 orders,billing
//	77e2...0b *
//
// "#" starts a comment; blank lines are ignored. Errors name the file and line. A file
// that group or others may write is refused (whoever can write it can grant
// themselves access); one they may read is accepted with a warning (see Warnings).
func LoadTokensFile(path string) (*TokenAuthorizer, error) {
	data, warning, err := ReadSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: tokens file: %w", err)
	}
	a := &TokenAuthorizer{}
	if warning != "" {
		a.warnings = append(a.warnings, warning)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("payloadsvc: tokens file %s line %d: want %q or %q, got %d fields",
				path, line, "<token> <namespace>[,<namespace>...]", "<token> *", len(fields))
		}
		if err := a.add(fields[0], strings.Split(fields[1], ",")); err != nil {
			return nil, fmt.Errorf("payloadsvc: tokens file %s line %d: %w", path, line, err)
		}
		if len(fields[0]) < MinTokenLength {
			a.warnings = append(a.warnings, fmt.Sprintf("tokens file %s line %d: token is %d characters, under %d: use 32 random characters or more",
				path, line, len(fields[0]), MinTokenLength))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("payloadsvc: tokens file %s: %w", path, err)
	}
	if len(a.entries) == 0 {
		return nil, fmt.Errorf("payloadsvc: tokens file %s has no tokens (it would refuse every request)", path)
	}
	return a, nil
}

// ReadSecretFile reads a file of secrets (tokens, a signing key): it refuses one that
// group or others may write, and returns a warning for one they may read.
func ReadSecretFile(path string) (data []byte, warning string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	switch mode := st.Mode().Perm(); {
	case mode&0o022 != 0:
		return nil, "", fmt.Errorf("%s is writable by group or others (mode %04o): "+
			"anyone who can write it can grant themselves access; chmod 600 it", path, mode)
	case mode&0o044 != 0:
		warning = fmt.Sprintf("%s is readable by group or others (mode %04o): chmod 600 it", path, mode)
	}
	data, err = io.ReadAll(io.LimitReader(f, 16<<20))
	return data, warning, err
}
