package payloadsvc

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotRecognized is returned (wrapped, with ErrUnauthenticated) by an Authorizer whose
// kind of credential the request does not carry: no token, or a token that is not one
// of its own. In a Chain the next authorizer then decides.
var ErrNotRecognized = errors.New("credential not recognized")

// Access is what a request does with a namespace's payloads.
type Access uint8

const (
	// AccessRead reads: decode (and previews), downloads, blob GET and HEAD.
	AccessRead Access = iota + 1
	// AccessWrite also stores: encode and blob PUT.
	AccessWrite
)

// String is "read" or "write", as the audit line and refusals name them.
func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// Identity is who an authorizer admitted, for the audit trail. It never holds a token.
type Identity struct {
	// Subject names the caller: a JWT's sub, or "sha256:<8 hex>" of a static token
	// (printf %s TOKEN | sha256sum tells which).
	Subject string
	// Method is how the caller proved it: "jwt", "token", or "custom" for an
	// Authorizer that does not implement AccessAuthorizer.
	Method string
}

// AccessAuthorizer is an Authorizer that tells reads from writes and names whom it
// admitted. The service calls AuthorizeAccess when its Authorizer implements it, and
// Authorize (for the whole namespace) otherwise. Refusals should be *AuthError.
type AccessAuthorizer interface {
	Authorizer
	AuthorizeAccess(r *http.Request, namespace string, access Access) (Identity, error)
}

// Reasons an AuthError gives, as the audit log and payloadsvc_auth_refusals_total
// label them.
const (
	ReasonNoCredential = "no_credential" // nothing the authorizers look for
	ReasonUnknownToken = "unknown_token" // a bearer token no authorizer recognises
	ReasonMalformed    = "malformed"     // not a well-formed JWT, or sub/exp missing
	ReasonAlg          = "alg"           // alg not in the asymmetric allowlist
	ReasonUnknownKID   = "unknown_kid"   // no key of the issuer has the token's kid
	ReasonBadSignature = "bad_signature" // the signature does not verify
	ReasonIssuer       = "issuer"
	ReasonAudience     = "audience"
	ReasonExpired      = "expired"
	ReasonNotYetValid  = "not_yet_valid" // nbf (or iat) in the future, past the skew
	ReasonMissingClaim = "missing_claim" // no permissions claim
	ReasonNamespace    = "namespace"     // no grant for the namespace
	ReasonReadOnly     = "read_only"     // a read grant, and the request writes
	ReasonOther        = "other"         // an Authorizer's error without a reason
	ReasonUnavailable  = "unavailable"   // the authorizer could not decide (issuer's keys unreachable): 503
)

// AuthError is an authorizer's refusal with its reason class. Its message reaches the
// caller and the log, so it never quotes a token or a claim of one that failed checks.
type AuthError struct {
	Reason  string
	Subject string // the caller, when the token was valid and only the grant was missing
	Msg     string
	kind    error // ErrUnauthenticated or ErrForbidden
	notMine bool
}

// Error is the sentinel's text and the message: "forbidden: token grants nothing...".
func (e *AuthError) Error() string { return e.kind.Error() + ": " + e.Msg }

// Unwrap lets errors.Is find ErrUnauthenticated or ErrForbidden, and ErrNotRecognized.
func (e *AuthError) Unwrap() []error {
	if e.notMine {
		return []error{e.kind, ErrNotRecognized}
	}
	return []error{e.kind}
}

// unauthenticated is a 401 refusal.
func unauthenticated(reason, format string, args ...any) *AuthError {
	return &AuthError{Reason: reason, Msg: fmt.Sprintf(format, args...), kind: ErrUnauthenticated}
}

// forbidden is a 403 refusal of a known subject.
func forbidden(reason, subject, format string, args ...any) *AuthError {
	return &AuthError{Reason: reason, Subject: subject, Msg: fmt.Sprintf(format, args...), kind: ErrForbidden}
}

// notRecognized is a 401 that lets a Chain ask the next authorizer.
func notRecognized(reason, format string, args ...any) *AuthError {
	e := unauthenticated(reason, format, args...)
	e.notMine = true
	return e
}

// reasonOf is an authorizer error's reason class.
func reasonOf(err error) string {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ReasonOther
}

// Chain combines authorizers, e.g. static tokens for workers and OIDC for people: the
// first that recognises the request's credential decides, whatever it decides. One
// that answers ErrNotRecognized passes the request on; when none recognises it, the
// refusal of the first that found a credential it could not place wins (else the
// first's), so a mistyped static token reads "bearer token is not valid".
type Chain []Authorizer

var _ AccessAuthorizer = Chain(nil)

// Authorize admits the request to the whole namespace (reads and writes).
func (c Chain) Authorize(r *http.Request, namespace string) error {
	_, err := c.AuthorizeAccess(r, namespace, AccessWrite)
	return err
}

// AuthorizeAccess asks each authorizer in turn until one recognises the credential.
func (c Chain) AuthorizeAccess(r *http.Request, namespace string, access Access) (Identity, error) {
	var first, placed error
	for _, a := range c {
		id, err := authorizeAccess(a, r, namespace, access)
		if !errors.Is(err, ErrNotRecognized) {
			return id, err
		}
		if first == nil {
			first = err
		}
		if placed == nil && reasonOf(err) != ReasonNoCredential {
			placed = err
		}
	}
	switch {
	case placed != nil:
		return Identity{}, placed
	case first != nil:
		return Identity{}, first
	}
	return Identity{}, unauthenticated(ReasonNoCredential, "no authorizer is configured")
}

// authorizeAccess asks a, through AuthorizeAccess when it has it.
func authorizeAccess(a Authorizer, r *http.Request, namespace string, access Access) (Identity, error) {
	if aa, ok := a.(AccessAuthorizer); ok {
		return aa.AuthorizeAccess(r, namespace, access)
	}
	if err := a.Authorize(r, namespace); err != nil {
		return Identity{}, err
	}
	return Identity{Method: "custom"}, nil
}

// accessFor is what a route and method do: encode and PUT write, the rest read.
func accessFor(route, method string) Access {
	if route == routeEncode || (route == routeBlob && method == http.MethodPut) {
		return AccessWrite
	}
	return AccessRead
}
