package payloadsvc_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// A payload service for workers of namespace "orders", and the Temporal UI at
// localhost:8233, over an in-memory store. Production would use a store opened from a
// file:// or s3:// URL (codec/storeurl), LoadTokensFile, and cmd/payloadsvc.
func ExampleNewHandler() {
	auth, err := payloadsvc.NewTokenAuthorizer(map[string][]string{"orders-worker-token": {"orders"}})
	if err != nil {
		log.Fatal(err)
	}
	h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{
		Authorizer:  auth,
		CORSOrigins: []string{"http://localhost:8233"},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // or http.ListenAndServe(":8080", h)
	defer srv.Close()

	blob := []byte("a large payload, already serialized")
	sum := sha256.Sum256(blob)
	url := srv.URL + "/v1/namespaces/orders/blobs/sha256/" + hex.EncodeToString(sum[:])
	for _, token := range []string{"", "orders-worker-token"} {
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(blob))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println("PUT with token", token != "", "->", resp.Status)
	}
	// Output:
	// PUT with token false -> 401 Unauthorized
	// PUT with token true -> 201 Created
}

// A worker's codec stores large payloads through the payload service instead of
// holding S3 credentials. Pass codec.NewDataConverter(c, nil) as the DataConverter of
// the Temporal client that the worker and starters use.
func ExampleNewHandler_worker() {
	h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // the service, e.g. https://payloads.internal:8080
	defer srv.Close()

	store, err := blobclient.New(srv.URL, blobclient.Options{Token: "orders-worker-token"})
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(store, codec.Options{Namespace: "orders"})
	if err != nil {
		log.Fatal(err)
	}

	dc := codec.NewDataConverter(c, converter.GetDefaultDataConverter())
	big := strings.Repeat("line item\n", 100_000) // 1 MB: over the 256 KiB threshold
	p, err := dc.ToPayload(big)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("offloaded:", codec.IsReference(p), "- reference bytes under 300:", len(p.Data) < 300)

	var back string
	if err := dc.FromPayload(p, &back); err != nil {
		log.Fatal(err)
	}
	fmt.Println("round trip intact:", back == big)
	// Output:
	// offloaded: true - reference bytes under 300: true
	// round trip intact: true
}

// ExampleConnLimit serves the payload service with at most 1000 connections open:
// past that, /healthz still answers and other requests get 503 with Retry-After.
func ExampleConnLimit() {
	h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	limited, err := payloadsvc.ConnLimit{Max: 1000}.Listen(srv, ln)
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(limited)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
