package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// transferServer is the limit a payload service round trip is measured against: an HTTP
// server on the same loopback that keeps a PUT body in memory (as memstore does) and
// answers a GET with it, hashing nothing.
type transferServer struct {
	srv *httptest.Server
	hc  *http.Client
	mu  sync.Mutex
	buf []byte
}

func startTransfer() *transferServer {
	t := &transferServer{}
	t.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			b := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(r.Body, b); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			t.mu.Lock()
			t.buf = b
			t.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			return
		}
		t.mu.Lock()
		b := t.buf
		t.mu.Unlock()
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	}))
	// The transport payloadsvc's Client uses (keep-alive, 64 KiB buffers).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.WriteBufferSize, tr.ReadBufferSize, tr.DisableCompression = 64<<10, 64<<10, true
	tr.ExpectContinueTimeout = 2 * time.Second
	t.hc = &http.Client{Transport: tr}
	return t
}

func (t *transferServer) close() {
	t.hc.CloseIdleConnections()
	t.srv.Close()
}

// transferCase is one PUT and one GET of in's bytes with Expect: 100-continue, as the
// Client sends them, into a fresh buffer each way and without any hashing: what moving
// the bytes alone costs on this machine's loopback.
func transferCase(t *transferServer, in input) bench {
	var data, got []byte
	setup := func(int) error { data = in.get(); return nil }
	run := func(int) error {
		req, err := http.NewRequest(http.MethodPut, t.srv.URL, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Expect", "100-continue")
		resp, err := t.hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("PUT: %s", resp.Status)
		}
		if resp, err = t.hc.Get(t.srv.URL); err != nil {
			return err
		}
		defer resp.Body.Close()
		got = make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, got)
		return err
	}
	check := func(int) error {
		if !bytes.Equal(got, data) {
			return fmt.Errorf("the bytes came back changed")
		}
		return nil
	}
	name := fmt.Sprintf("loopback HTTP %s PUT+GET, no hashing", sizeName(in.size))
	return bench{name: name, size: in.size, setup: setup, run: run, check: check}
}

// serviceBound is the best a verified round trip through the service can do, as a
// ratio to SHA-256 (T: one SHA-256 pass over the payload), from what the transfer alone
// costs in the same run: xWall and xCPU are its rates as ratios to SHA-256 by wall and
// by CPU time. The client's content address is one pass before the upload can start
// (the key names the object before the store writes it, and dedupe asks before the
// body is sent); after it, the service's check and the client's check (one pass each)
// and the transfer can at best share all cores with none idle, and cannot take less
// than the transfer alone. So the wall time is at least
// T + max(T/xWall, (T/xCPU + 2T)/cores).
func serviceBound(xWall, xCPU float64, cores int) float64 {
	return 1 / (1 + max(1/xWall, (1/xCPU+2)/float64(cores)))
}

// cpuBound is the same floor for a round trip that used cpuPasses SHA-256 passes' worth
// of CPU per payload byte: what it would reach with every core busy after the address.
func cpuBound(cpuPasses float64, cores int) float64 {
	return 1 / (1 + (cpuPasses-1)/float64(cores))
}
