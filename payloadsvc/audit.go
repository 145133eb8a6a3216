package payloadsvc

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// auditMsg is the message of every audit line, so one filter finds them all.
const auditMsg = "payloadsvc: audit"

// audited are the routes whose every authorized request gets an audit line: those
// that reveal or store payloads.
var audited = map[string]bool{routeDecode: true, routeEncode: true, routeDownload: true}

// refusals logs and counts the refusals of the auth layers (the Authorizer's, and
// download links'), each with its reason class.
type refusals struct {
	log     *slog.Logger
	counter *prometheus.CounterVec // payloadsvc_auth_refusals_total: reason
}

// note logs and counts a refusal. The line holds the reason and the authorizer's
// message (which quotes no token), never a header.
func (a refusals) note(r *http.Request, ns string, status int, err error) {
	reason := reasonOf(err)
	if status == http.StatusServiceUnavailable {
		reason = ReasonUnavailable
	}
	a.counter.WithLabelValues(reason).Inc()
	attrs := []slog.Attr{
		slog.String("event", "refused"),
		slog.String("request_id", requestID(r)),
		slog.String("reason", reason),
		slog.String("route", requestInfoFrom(r.Context()).route),
		slog.String("namespace", ns),
		slog.Int("status", status),
	}
	var ae *AuthError
	if errors.As(err, &ae) && ae.Subject != "" {
		attrs = append(attrs, slog.String("subject", ae.Subject))
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		attrs = append(attrs, slog.String("origin", origin))
	}
	a.log.LogAttrs(r.Context(), slog.LevelWarn, auditMsg, attrs...)
}

// auditPayloads notes, for the audit line, how many payloads a request revealed
// (decode: what it answered; download: the one) or gave to store (encode), and their
// serialized bytes.
func auditPayloads(r *http.Request, route string, in, out []*commonpb.Payload) {
	info := requestInfoFrom(r.Context())
	if info == nil {
		return
	}
	ps := out
	if route == routeEncode {
		ps = in
	}
	info.payloads = len(ps)
	info.payloadBytes = 0
	for _, p := range ps {
		info.payloadBytes += int64(proto.Size(p))
	}
}

// auditRequest writes the audit line of a decode, encode or download that got past
// authorization (or ran with none), whatever its outcome: who, which namespace and
// route, how many payloads and bytes. Never payload data, never a token.
func auditRequest(log *slog.Logger, r *http.Request, info *requestInfo, status int) {
	if !audited[info.route] || info.authMethod == "" {
		return // refused, or stopped before authorization (a bad namespace, say)
	}
	log.LogAttrs(r.Context(), slog.LevelInfo, auditMsg,
		slog.String("event", "allowed"),
		slog.String("request_id", info.id),
		slog.String("subject", info.subject),
		slog.String("auth", info.authMethod),
		slog.String("namespace", info.namespace),
		slog.String("route", info.route),
		slog.Int("payloads", info.payloads),
		slog.Int64("bytes", info.payloadBytes),
		slog.Int("status", status),
	)
}
