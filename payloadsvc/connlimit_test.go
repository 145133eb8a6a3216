package payloadsvc

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
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

// TestConnLimitReserveAnswers: a connection over the cap is answered without the
// handler: /healthz 200, anything else 503 with Retry-After and the JSON error, no body
// for HEAD, nothing for a request that does not parse; then it is closed.
func TestConnLimitReserveAnswers(t *testing.T) {
	if _, err := (ConnLimit{}).Listen(&http.Server{}, nil); err == nil {
		t.Error("ConnLimit without Max accepted")
	}
	for _, tc := range []struct {
		name, req string
		want      int // 0: closed without an answer
		wantBody  string
		wantRetry bool
	}{
		{"healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200, "ok\n", false},
		{"healthz HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", false},
		{"readyz", "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 503, busyBody, true},
		{"decode", "POST /codec/decode HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 503, busyBody, true},
		{"HEAD elsewhere", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 503, "", true},
		{"garbage", "NOT HTTP\r\n\r\n", 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &limitListener{lim: ConnLimit{Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}, reserve: make(chan struct{}, 1)}
			l.reserve <- struct{}{} // taken, as place does before answerBusy
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan struct{})
			go func() { l.answerBusy(server); close(done) }()
			_ = client.SetDeadline(time.Now().Add(5 * time.Second))
			go func() { _, _ = io.WriteString(client, tc.req) }()
			resp, err := http.ReadResponse(bufio.NewReader(client), &http.Request{Method: strings.Fields(tc.req)[0]})
			<-done
			if len(l.reserve) != 0 {
				t.Error("the reserve slot was not given back")
			}
			if tc.want == 0 {
				if err == nil {
					t.Errorf("a request that does not parse was answered %d", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || string(body) != tc.wantBody || (resp.Header.Get("Retry-After") != "") != tc.wantRetry || !resp.Close {
				t.Errorf("%d %q Retry-After %q close %v; want %d %q",
					resp.StatusCode, body, resp.Header.Get("Retry-After"), resp.Close, tc.want, tc.wantBody)
			}
		})
	}
}
