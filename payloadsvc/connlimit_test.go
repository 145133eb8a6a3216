package payloadsvc

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// TestConnLimitEvictsIdleAndAnswersOverTheCap: at the cap an idle keep-alive
// connection makes room for a new one; when every connection is busy, a new one gets
// /healthz 200 and anything else 503 with Retry-After.
func TestConnLimitEvictsIdleAndAnswersOverTheCap(t *testing.T) {
	h, err := NewHandler(memstore.New(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	lim, err := ConnLimit{Max: 2, Reserve: 1, Logger: slog.New(slog.DiscardHandler)}.Listen(srv, ln)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lim) }()
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	// send writes a raw request on a new connection and returns it with its reader.
	send := func(req string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	status := func(br *bufio.Reader) int {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" }

	// Two keep-alive connections, answered and left idle: the cap is reached.
	for i := 0; i < 2; i++ {
		if _, br := send(get("/readyz")); status(br) != 200 {
			t.Fatal("readyz under the cap")
		}
	}
	// A third is served all the same: an idle one was closed for it.
	if _, br := send(get("/readyz")); status(br) != 200 {
		t.Fatal("a new connection at the cap with idle ones open was not served")
	}
	// Now fill the cap with requests that hold their connections (bodies held back).
	slow := "POST /codec/default/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
	send(slow)
	send(slow)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, br := send(get("/readyz"))
		if status(br) == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cap full of busy connections does not answer 503")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, br := send(get("/healthz")); status(br) != 200 {
		t.Fatal("/healthz over the cap")
	}
}
