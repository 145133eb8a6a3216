package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DataDogService is a test double of DataDog's large-payload service (the HTTP handlers
// server/handler/v1 and v2 of github DataDog/temporal-large-payload-codec), rebuilt from a
// reading of those handlers, never from their code. It refuses exactly what they refuse,
// in their order: a method other than the route's (405), a Content-Type other than
// exactly application/octet-stream (400), a missing query parameter (400), a missing or
// non-decimal X-Payload-Expected-Content-Length (400). A GET declares Content-Length equal
// to that header and then writes what it holds in one write, as the real one over its
// memory driver: when the stored length differs from the claim the body ends early (a
// longer blob: net/http refuses the whole write past the declared length) and the
// connection closes. It records every request; SetFault makes it misbehave. See
// /work/notes/datadog-wire.md for the wire.
type DataDogService struct {
	URL string

	mu    sync.Mutex
	blobs map[string][]byte // storage key -> Data
	reqs  []DataDogRequest
	fault DataDogFault
}

// DataDogServiceOptions configures a DataDogService.
type DataDogServiceOptions struct {
	// V2Only serves the v2 routes alone, as the service does since 2023-02 (v1 answers
	// 404). By default v1 is served too, as from 2022-09 to 2023-02.
	V2Only bool
}

// DataDogRequest is one request the service saw and the status it answered.
type DataDogRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Status       int
}

// DataDogFaultKind names a way the service misbehaves on blob GETs that pass its checks.
type DataDogFaultKind int

// The fault modes.
const (
	// DataDogHealthy serves blobs as stored.
	DataDogHealthy DataDogFaultKind = iota
	// DataDogTampered flips one byte of the blob (same length).
	DataDogTampered
	// DataDogTruncated serves half the blob under the real service's rules: it declares
	// the expected length, sends fewer bytes and closes the connection.
	DataDogTruncated
	// DataDogStoredLonger holds the blob plus extra bytes: the real service declares the
	// expected length and its write past it fails, so the body ends early.
	DataDogStoredLonger
	// DataDogOverLong sends the blob plus extra bytes without a Content-Length, as no
	// real service does but a proxy in front of one might.
	DataDogOverLong
	// DataDogRedirect answers Fault.Status (default 302) to Fault.Location.
	DataDogRedirect
	// DataDogStatus answers Fault.Status (default 500).
	DataDogStatus
)

// DataDogFault is the misbehaviour SetFault installs.
type DataDogFault struct {
	Kind DataDogFaultKind
	// Status is the redirect or error status.
	Status int
	// Location is where DataDogRedirect sends the client.
	Location string
	// Times is how many blob GETs the fault affects before the service heals; 0 = all.
	Times int
}

// StartDataDogService starts the double for one test and stops it in t.Cleanup.
func StartDataDogService(t testing.TB) *DataDogService {
	return StartDataDogServiceWith(t, DataDogServiceOptions{})
}

// StartDataDogServiceWith is StartDataDogService with options.
func StartDataDogServiceWith(t testing.TB, opts DataDogServiceOptions) *DataDogService {
	s := &DataDogService{blobs: map[string][]byte{}}
	versions := []int{1, 2}
	if opts.V2Only {
		versions = []int{2}
	}
	mux := http.NewServeMux()
	for _, v := range versions {
		p := fmt.Sprintf("/v%d/", v)
		mux.HandleFunc(p+"health/head", s.health)
		mux.HandleFunc(p+"blobs/put", func(w http.ResponseWriter, r *http.Request) { s.put(w, r, v) })
		mux.HandleFunc(p+"blobs/get", func(w http.ResponseWriter, r *http.Request) { s.get(w, r, v) })
	}
	srv := httptest.NewServer(s.record(mux))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// statusWriter records the status a handler writes before any of the body leaves, so a
// client that has the answer finds it in Requests.
type statusWriter struct {
	http.ResponseWriter
	s   *DataDogService
	i   int
	set bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.set {
		w.set = true
		w.s.mu.Lock()
		w.s.reqs[w.i].Status = code
		w.s.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.set {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// record notes each request as it arrives; its status is filled in when written.
func (s *DataDogService) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, DataDogRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
		i := len(s.reqs) - 1
		s.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w, s: s, i: i}
		next.ServeHTTP(sw, r)
		if !sw.set {
			sw.WriteHeader(http.StatusOK)
		}
	})
}

// Requests returns the requests seen so far, oldest first.
func (s *DataDogService) Requests() []DataDogRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Gets is the number of blob GETs seen, refused ones included.
func (s *DataDogService) Gets() int64 {
	var n int64
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/blobs/get") {
			n++
		}
	}
	return n
}

// SetFault installs a fault for the blob GETs that pass the service's checks.
func (s *DataDogService) SetFault(f DataDogFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Tamper makes the service flip a byte in every blob it serves from now on (or stop).
func (s *DataDogService) Tamper(on bool) {
	f := DataDogFault{}
	if on {
		f.Kind = DataDogTampered
	}
	s.SetFault(f)
}

// Blob returns the data stored under key (a v2 key, or "blobs/<digest>" for v1).
func (s *DataDogService) Blob(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[key]
	return b, ok
}

func (s *DataDogService) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// refuse answers status with msg as the real handlers do (no Content-Type of their own).
func refuse(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	if msg != "" {
		_, _ = w.Write([]byte(msg))
	}
}

// get is the v1 or v2 GET handler: the checks in the real order, then the stored bytes
// under the declared expected length.
func (s *DataDogService) get(w http.ResponseWriter, r *http.Request, version int) {
	if r.Method != http.MethodGet {
		refuse(w, http.StatusMethodNotAllowed, "")
		return
	}
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		refuse(w, http.StatusBadRequest, "missing or incorrect Content-Type header")
		return
	}
	digest := r.URL.Query().Get("digest")
	if version == 1 && digest == "" {
		refuse(w, http.StatusBadRequest, "digest query parameter is required")
		return
	}
	hdr := r.Header.Get("X-Payload-Expected-Content-Length")
	if hdr == "" {
		refuse(w, http.StatusBadRequest, "expected content length header is required")
		return
	}
	expected, err := strconv.ParseUint(hdr, 10, 64)
	if err != nil {
		refuse(w, http.StatusBadRequest, "expected content length header "+hdr+" is invalid")
		return
	}
	// Declared before the key is checked, as the real v2 handler does: it stays on the
	// 400 below.
	w.Header().Set("Content-Length", strconv.FormatUint(expected, 10))
	key := "blobs/" + digest
	if version == 2 {
		if key, err = v2Key(r.URL.Query().Get("key")); err != nil {
			refuse(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	s.mu.Lock()
	b, ok := s.blobs[key]
	s.mu.Unlock()
	if !ok {
		w.Header().Del("Content-Length")
		refuse(w, http.StatusNotFound, "blob not found: <nil>")
		return
	}
	s.serveBlob(w, b)
}

// v2Key is the v2 handler's key: required, and unescaped once more after the query
// parsing (so "+" is a space and "%xx" is decoded twice).
func v2Key(param string) (string, error) {
	if param == "" {
		return "", errors.New("key query parameter is required")
	}
	key, err := url.QueryUnescape(param)
	if err != nil {
		return "", fmt.Errorf("key query parameter %s cannot be unescaped: %w", param, err)
	}
	return key, nil
}

// serveBlob writes b, or what the installed fault makes of it.
func (s *DataDogService) serveBlob(w http.ResponseWriter, b []byte) {
	f := s.takeFault()
	switch f.Kind {
	case DataDogTampered:
		b = bytes.Clone(b)
		if len(b) > 0 {
			b[len(b)/2] ^= 1
		}
	case DataDogTruncated:
		b = b[:len(b)/2]
	case DataDogStoredLonger:
		b = append(bytes.Clone(b), "trailing bytes the reference does not claim"...)
	case DataDogOverLong:
		w.Header().Del("Content-Length")
		b = append(bytes.Clone(b), "trailing bytes the reference does not claim"...)
	case DataDogRedirect:
		w.Header().Del("Content-Length")
		w.Header().Set("Location", f.Location)
		w.WriteHeader(cmpOr(f.Status, http.StatusFound))
		return
	case DataDogStatus:
		w.Header().Del("Content-Length")
		refuse(w, cmpOr(f.Status, http.StatusInternalServerError), "injected failure")
		return
	}
	// net/http keeps the declared Content-Length: it refuses a write past it and closes
	// the connection when fewer bytes arrive, which is what the real one's client sees.
	_, _ = w.Write(b)
}

// takeFault returns the fault for one GET and counts it down.
func (s *DataDogService) takeFault() DataDogFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f.Times > 0 {
		if s.fault.Times--; s.fault.Times == 0 {
			s.fault = DataDogFault{}
		}
	}
	return f
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
