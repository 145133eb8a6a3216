package payloadsvc

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// scopeNamespace takes the request's namespace from its path, or from X-Namespace for a
// codec route without one (the UI's way), validates it and records it in requestInfo,
// where the layers below it read it.
func scopeNamespace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestInfoFrom(r.Context())
		ns := info.rt.namespace
		if !info.rt.hasNS {
			ns = r.Header.Get("X-Namespace")
			if ns == "" {
				writeError(w, r, http.StatusBadRequest, "bad namespace: none given (send X-Namespace or use /codec/{namespace}/%s)", info.rt.name)
				return
			}
		}
		if err := driver.ValidateNamespace(ns); err != nil {
			writeErrorLogged(w, r, http.StatusBadRequest, "bad namespace: "+err.Error(), "bad namespace")
			return
		}
		info.namespace = ns // valid: safe to log
		next.ServeHTTP(w, r)
	})
}

// authenticate runs the Authorizer for the request's namespace and access (nil admits
// everyone), noting whom it admitted for the audit line; it answers refusals itself.
type authenticate struct {
	next     http.Handler
	auth     Authorizer
	refusals refusals
	log      *slog.Logger
}

func requireAuth(auth Authorizer, refused refusals, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return &authenticate{next: next, auth: auth, refusals: refused, log: log}
	}
}

func (a *authenticate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	if a.auth == nil {
		info.authMethod = "none"
		a.next.ServeHTTP(w, r)
		return
	}
	id, err := authorizeAccess(a.auth, r, info.namespace, accessFor(info.route, r.Method))
	if err != nil {
		a.fail(w, r, info.namespace, err)
		return
	}
	info.subject, info.authMethod = id.Subject, id.Method
	a.next.ServeHTTP(w, r)
}

// fail answers an Authorizer's error: 401, 403, or 503 for anything else.
func (a *authenticate) fail(w http.ResponseWriter, r *http.Request, ns string, err error) {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		a.refusals.note(r, ns, http.StatusUnauthorized, err)
		w.Header().Set("WWW-Authenticate", `Bearer realm="payloadsvc"`)
		writeError(w, r, http.StatusUnauthorized, "%v", err)
	case errors.Is(err, ErrForbidden):
		a.refusals.note(r, ns, http.StatusForbidden, err)
		writeError(w, r, http.StatusForbidden, "%v", err)
	default:
		a.refusals.note(r, ns, http.StatusServiceUnavailable, err)
		a.log.Error("payloadsvc: authorizer failed", "request_id", requestID(r), "namespace", ns, "error", err)
		writeError(w, r, http.StatusServiceUnavailable, "authorization unavailable")
		logDetail(r, err)
	}
}
