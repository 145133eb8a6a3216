package payloadsvc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
)

// TestCLIShowWithJWT: the real temporal CLI with --codec-auth "Bearer <jwt>" shows a
// workflow's offloaded input decoded (the worker stored it with its static token);
// without a token, or with a token for another namespace, it shows the reference, and
// the service logs the refusal.
func TestCLIShowWithJWT(t *testing.T) {
	iss := oidctest.Start(t)
	people, err := NewOIDCAuthorizer(testCtx(t, time.Minute), OIDCOptions{Issuer: iss.URL, Audiences: []string{oidctest.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	e := startTemporalAuth(t, people)
	marker := "LONGHAUL-JWT-CLI-MARKER"
	input := marker + " " + strings.Repeat("offloaded workflow input. ", 1<<20/26)
	ctx := testCtx(t, 3*time.Minute)
	run, err := e.client.ExecuteWorkflow(ctx, e.startOptions("cli-jwt"), EchoWorkflow, input)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, new(string)); err != nil {
		t.Fatal(err)
	}
	endpoint := e.svc.URL + "/codec/{namespace}"
	show := func(extra ...string) (*commonpb.Payload, string) {
		t.Helper()
		args := append([]string{"workflow", "show", "--workflow-id", "cli-jwt", "--output", "json", "--codec-endpoint", endpoint}, extra...)
		stdout, stderr, err := tryCLI(t, e.srv, args...)
		if err != nil {
			t.Fatalf("temporal %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
		}
		return startedInput(t, stdout), stderr
	}

	tok := iss.Token(t, jose.RS256, iss.Claims("alice@example.com", "default:read"))
	decoded, _ := show("--codec-auth", "Bearer "+tok)
	want, _ := json.Marshal(input)
	if string(decoded.Metadata["encoding"]) != "json/plain" || !bytes.Equal(decoded.Data, want) {
		t.Fatalf("with a read JWT the CLI shows %q data of %d bytes, want the decoded %d-byte input",
			decoded.Metadata["encoding"], len(decoded.Data), len(want))
	}
	auditLine(t, e.svc, "event=allowed", "subject=alice@example.com", "auth=jwt", "route=decode", "namespace=default")

	// Refused: the CLI (v1.5.1) fails the command rather than show the encoded
	// payloads (its codec interceptor turns the 401/403 into a failed history fetch,
	// which it retries until its deadline); either way nothing decoded is shown and
	// the service logs each refusal with its reason.
	otherNS := iss.Token(t, jose.ES256, iss.Claims("bob@example.com", "billing:admin"))
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"no token", nil, ReasonNoCredential},
		{"another namespace's token", []string{"--codec-auth", "Bearer " + otherNS}, ReasonNamespace},
	} {
		args := append([]string{"workflow", "show", "--workflow-id", "cli-jwt", "--output", "json", "--codec-endpoint", endpoint}, tc.args...)
		stdout, stderr, err := tryCLI(t, e.srv, args...)
		if err == nil {
			if p := startedInput(t, stdout); !codec.IsReference(p) {
				t.Errorf("%s: the CLI shows %q, want the encoded reference or a failure", tc.name, p.Metadata["encoding"])
			}
		}
		if strings.Contains(stdout, marker) || strings.Contains(stdout, base64.StdEncoding.EncodeToString([]byte(marker))[:16]) {
			t.Errorf("%s: the CLI shows the payload's data", tc.name)
		}
		auditLine(t, e.svc, "event=refused", "reason="+tc.reason, "route=decode", "namespace=default")
		t.Logf("%s: CLI exit %v, stderr: %s", tc.name, err, short([]byte(stderr)))
	}
	if strings.Contains(e.svc.logs.String(), tok) || strings.Contains(e.svc.logs.String(), marker) {
		t.Error("the service log holds the token or the payload")
	}
}
