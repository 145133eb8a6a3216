// Package payloadsvc is longhaul's payload service: an HTTP front for a codec.Store, so
// workers can offload large payloads without holding storage credentials, and a Temporal
// codec server, so people can read offloaded payloads in the Temporal UI and with
// `temporal workflow show`.
//
// NewHandler serves, for one codec.Store:
//
//	PUT  /v1/namespaces/{ns}/blobs/{hash}/{hex}   store a blob (201 created, 200 present)
//	GET  /v1/namespaces/{ns}/blobs/{hash}/{hex}   read a blob (200, 404)
//	HEAD /v1/namespaces/{ns}/blobs/{hash}/{hex}   size, and refresh the blob's age (200, 404)
//	POST /codec/encode, /codec/decode             Temporal codec server; namespace from X-Namespace (the UI)
//	POST /codec/{ns}/encode, /codec/{ns}/decode   the same, namespace in the path (the CLI)
//	GET  /v1/download/{ns}/{hash}/{hex}?...       a previewed payload's data, by signed link
//	GET  /healthz, /readyz, /metrics              liveness, store reachability, Prometheus
//
// {hash} is the hash of the content address: "blake3" (references v2, keys
// "v2/{ns}/blake3/{hex}") or "sha256" (references v1 and FIPS deployments, keys
// "v1/{ns}/sha256/{hex}"); {hex} is its 64 lowercase hex digits. The two are apart: a
// blob stored under one hash is not found under the other.
//
// A PUT is verified before the blob becomes visible: the body streams into the store while
// it is hashed by the path's hash, and the last bytes of a body whose digest differs from
// the path are withheld, so the store commits nothing (a PUT needs a Content-Length; a
// blob the store has already answers 200 before the body is read, so a client that sent
// "Expect: 100-continue" never uploads it). A blake3 body is hashed as it arrives: reads
// of 1 MiB or more in place, smaller ones gathered into 1 MiB batches that a goroutine
// hashes beside the reads, on another core. A sha256 PUT may carry the body's SHA-256
// chain in the Longhaul-Sha256-Chain header, "<interval> <base64 state>...":
// crypto/sha256's marshaled state after every interval bytes, which the Client sends
// from the codec's own hash pass. The service then hashes the intervals on all its cores, each from its claimed
// state, and requires each to end in the next claimed state and the last in the path's
// digest; that proves the same as one serial pass, and a false state only fails it. The
// service keeps the chains its last 512 verified uploads proved and sends the chain with
// a whole-blob GET, so the codec behind a Client checks a blob read soon after it was
// written on all its cores too (a chain that does not check out costs the client a
// serial pass, never a failed read of good bytes). A blake3 PUT needs no chain and is
// refused with one (400). A download link's signature covers the hash as well as the
// digest, so a link made for one hash opens no other.
//
// Workers use that blob API through package payloadsvc/blobclient, which links none of
// the service's dependencies: blobclient.New returns a Client, a codec.Store over it, so
// a worker configures codec.New(client, ...) with the client of blobclient.New(url, opts)
// instead of S3 credentials.
//
// Access is controlled by an Authorizer: bearer tokens mapped to namespaces
// (LoadTokensFile), JWTs from an OIDC issuer carrying Temporal's permission claims
// (NewOIDCAuthorizer: "<ns>:read" reads, "<ns>:write|worker|admin" also writes), or
// both in a Chain; and, for browsers, an exact CORS origin allowlist answered with
// credentials. Each authorized decode, encode and download logs one audit line (subject,
// namespace, route, payloads, bytes), each refusal one with its reason class. The binary
// in cmd/payloadsvc wires it all to flags.
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
//
// Inside, NewHandler is a stack of small http.Handler layers, each with its own state
// and tests, composed in one place (compose in handler.go): access log and metrics,
// panic recovery, route parsing, allowed hosts, CORS and the router; under the router,
// per route, the namespace, authentication (the Authorizer, or a download link's
// signature), the codec for the namespace and, for the codec server, admission against
// the in-flight budget. The layers hand what they learn down in the request's context.
package payloadsvc
