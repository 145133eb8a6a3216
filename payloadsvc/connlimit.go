package payloadsvc

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ConnLimit caps the connections an http.Server holds open, so clients that open
// connections and send nothing, or send bodies slowly, cannot take every file
// descriptor. Unlike a listener that stops accepting at the cap (after which nothing
// answers, health checks included), it keeps answering:
//   - at the cap, an idle keep-alive connection is closed to make room, as a server
//     does when it shuts down (clients retry on a new connection);
//   - past the cap, up to Reserve more connections are accepted and answered at once,
//     without reaching the handler: GET or HEAD /healthz with 200, anything else with
//     503 and Retry-After; then they are closed. Each has Timeout to send its request
//     headers.
//
// Past Max+Reserve, a new connection waits up to Timeout/4 for room, then is closed.
type ConnLimit struct {
	// Max is the number of connections served normally; required.
	Max int
	// Reserve is the number of connections past Max that are answered briefly; default
	// Max/8, between 8 and 256.
	Reserve int
	// Timeout bounds the reading of a reserve connection's request; default 2 seconds.
	Timeout time.Duration
	// Logger receives a warning when the cap is first reached; default slog.Default().
	Logger *slog.Logger
}

// Listen wraps ln for srv and installs srv.ConnState (keeping one already set): serve
// the result with srv.Serve. For TLS, wrap ln with tls.NewListener first (and set
// srv.TLSConfig), so reserve connections are answered over TLS too.
func (l ConnLimit) Listen(srv *http.Server, ln net.Listener) (net.Listener, error) {
	if l.Max <= 0 {
		return nil, fmt.Errorf("payloadsvc: ConnLimit.Max is %d, want a positive number", l.Max)
	}
	if l.Reserve <= 0 {
		l.Reserve = min(max(l.Max/8, 8), 256)
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Second
	}
	if l.Logger == nil {
		l.Logger = slog.Default()
	}
	cl := &limitListener{Listener: ln, lim: l, idle: map[net.Conn]bool{}, evicted: map[net.Conn]bool{},
		reserve: make(chan struct{}, l.Reserve), freed: make(chan struct{}, 1), next: srv.ConnState}
	srv.ConnState = cl.connState
	return cl, nil
}

type limitListener struct {
	net.Listener
	lim     ConnLimit
	reserve chan struct{} // one token per reserve connection being answered
	freed   chan struct{} // a connection under the cap closed
	next    func(net.Conn, http.ConnState)

	mu      sync.Mutex
	open    int               // connections handed to the server, not yet closed
	idle    map[net.Conn]bool // those of them waiting for a next request
	evicted map[net.Conn]bool // closed here to make room, not yet reported closed
	warned  bool
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.place(c) {
			return c, nil
		}
	}
}

// place admits c (true), or hands it to the reserve. When both are full it waits a
// little for room in either (the reserve turns over in microseconds unless clients
// hold it by sending nothing), so a health check that arrives in a burst is queued
// rather than reset; past that it closes c.
func (l *limitListener) place(c net.Conn) bool {
	wait := time.NewTimer(l.lim.Timeout / 4)
	defer wait.Stop()
	for {
		if l.admit() {
			return true
		}
		select {
		case l.reserve <- struct{}{}:
			go l.answerBusy(c)
			return false
		case <-l.freed:
		case <-wait.C:
			c.Close()
			return false
		}
	}
}

// admit counts a new connection in, closing an idle one to make room if it must.
func (l *limitListener) admit() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.lim.Max {
		for c := range l.idle {
			delete(l.idle, c)
			l.evicted[c] = true
			l.open--
			c.Close()
			break
		}
	}
	if l.open >= l.lim.Max {
		if !l.warned {
			l.warned = true
			l.lim.Logger.Warn("payloadsvc: open connections reached the cap: answering new ones with 503 (see --max-connections)", "max", l.lim.Max)
		}
		return false
	}
	l.open++
	return true
}

func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	switch st {
	case http.StateIdle:
		l.idle[c] = true
	case http.StateActive:
		delete(l.idle, c)
	case http.StateClosed, http.StateHijacked:
		delete(l.idle, c)
		if l.evicted[c] {
			delete(l.evicted, c)
		} else {
			l.open--
			select {
			case l.freed <- struct{}{}:
			default:
			}
		}
	}
	l.mu.Unlock()
	if l.next != nil {
		l.next(c, st)
	}
}

const (
	busyHealthy = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n" +
		"Cache-Control: no-store\r\nConnection: close\r\n\r\n"
	busyBody    = `{"error":"server busy: too many open connections, retry later"}` + "\n"
	busyRefused = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\n" +
		"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: "
)

// answerBusy answers one reserve connection without the handler and closes it.
func (l *limitListener) answerBusy(c net.Conn) {
	defer func() { <-l.reserve }()
	defer c.Close()
	defer func() {
		if p := recover(); p != nil {
			l.lim.Logger.Error("payloadsvc: panic answering a connection over the cap", "panic", fmt.Sprint(p))
		}
	}()
	_ = c.SetDeadline(time.Now().Add(l.lim.Timeout))
	if tc, ok := c.(*tls.Conn); ok {
		if tc.Handshake() != nil || tc.ConnectionState().NegotiatedProtocol == "h2" {
			return // HTTP/2 clients get a closed connection and retry
		}
	}
	req, err := http.ReadRequest(bufio.NewReader(io.LimitReader(c, 16<<10)))
	if err != nil {
		return
	}
	var resp string
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && req.URL.Path == "/healthz" {
		resp = busyHealthy
		if req.Method == http.MethodGet {
			resp += "ok\n"
		}
	} else {
		resp = busyRefused + fmt.Sprint(len(busyBody)) + "\r\n\r\n"
		if req.Method != http.MethodHead {
			resp += busyBody
		}
	}
	_, _ = io.WriteString(c, resp)
}
