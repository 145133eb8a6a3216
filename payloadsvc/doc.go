// Package payloadsvc is longhaul's payload service: an HTTP front for a codec.Store, so
// workers can offload large payloads without holding storage credentials, and a Temporal
// codec server, so people can read offloaded payloads in the Temporal UI and with
// `temporal workflow show`.
//
// NewHandler serves, for one codec.Store:
//
//	PUT  /v1/namespaces/{ns}/blobs/sha256/{hex}   store a blob (201 created, 200 present)
//	GET  /v1/namespaces/{ns}/blobs/sha256/{hex}   read a blob (200, 404)
//	HEAD /v1/namespaces/{ns}/blobs/sha256/{hex}   size, and refresh the blob's age (200, 404)
//	POST /codec/encode, /codec/decode             Temporal codec server; namespace from X-Namespace (the UI)
//	POST /codec/{ns}/encode, /codec/{ns}/decode   the same, namespace in the path (the CLI)
//	GET  /v1/download/{ns}/sha256/{hex}?...       a previewed payload's data, by signed link
//	GET  /healthz, /readyz, /metrics              liveness, store reachability, Prometheus
//
// A PUT is verified before the blob becomes visible: the body is streamed to a temporary
// file while it is hashed, and only a body whose SHA-256 matches the path is stored.
//
// NewClient returns a Client, a codec.Store over that blob API, so a worker configures
// codec.New(payloadsvc.NewClient(url, opts), ...) instead of S3 credentials.
//
// Access is controlled by an Authorizer (bearer tokens mapped to namespaces with
// LoadTokensFile, or your own for JWT/OIDC) and, for browsers, an exact CORS origin
// allowlist. The binary in cmd/payloadsvc wires it all to flags.
//
// The defaults assume a hostile network. Without an Authorizer only Host names that DNS
// rebinding cannot forge are answered (Options.AllowedHosts); codec requests must be
// application/json, so browsers ask CORS first; codec requests reserve what they will
// hold from Options.MaxInflightBytes before they allocate it (503 with Retry-After when
// it is taken, 413 when one request could never fit) and their payloads are counted
// before they are parsed; an answer sent before a body is read closes the connection;
// client-visible errors are generic and carry the request id, while the log has the
// details and never a request body; panics become 500s. ConnLimit caps a server's open
// connections and keeps /healthz answering past the cap.
package payloadsvc
