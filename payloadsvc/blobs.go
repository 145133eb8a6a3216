package payloadsvc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// blobAPI is the blob API: PUT, GET and HEAD of /v1/namespaces/{ns}/blobs/sha256/{hex},
// under the namespace and auth layers.
type blobAPI struct {
	store   driver.Store
	maxBlob int64                // Options.MaxBlobBytes
	chains  *sha256chain.Limiter // PUT bodies' intervals hashed on spare cores
	// verified holds the SHA-256 chains of the latest blobs whose PUT was verified
	// through one, sent with the blob on GET so the client verifies it on all cores.
	verified *lru.Cache[string, sha256chain.Chain]
	fail     *storeFailures
	log      *slog.Logger
}

func newBlobAPI(store driver.Store, maxBlob int64, fail *storeFailures, log *slog.Logger) (*blobAPI, error) {
	verified, err := lru.New[string, sha256chain.Chain](verifiedChains)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: chain cache: %w", err)
	}
	return &blobAPI{store: store, maxBlob: maxBlob, chains: sha256chain.NewLimiter(min(runtime.GOMAXPROCS(0), maxChainSlots)),
		verified: verified, fail: fail, log: log}, nil
}

func (h *blobAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := requestInfoFrom(r.Context()).rt
	key, err := driver.Key(rt.namespace, driver.SHA256, rt.digest)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad blob address: %v", err)
		return
	}
	switch r.Method {
	case http.MethodPut:
		h.putBlob(w, r, key, rt.digest)
	case http.MethodGet:
		h.getBlob(w, r, key)
	case http.MethodHead:
		h.headBlob(w, r, key)
	}
}

// maxChainSlots bounds the PUT intervals hashed off the request goroutines at once: at
// most this many interval buffers (1–16 MiB) are held, whatever the load.
const maxChainSlots = 8

// verifiedChains is how many chains of verified uploads a service keeps to send with
// their blobs: at most 14 KiB each (MaxStates), 7 MiB in all, and 1 KiB per 8 MiB of
// blob up to 64 MiB. A blob read soon after it was written (a workflow taking an
// activity's result) is then verified on all the reader's cores.
const verifiedChains = 512

// putBlob stores a verified body, streamed into the store while it is hashed: no
// temporary file, no copy of the body beyond what the store itself buffers. The store's
// Put checks existence first and, for a blob it has, refreshes it and returns without
// reading the body, so the answer (200) goes out before the body is read and a client
// that sent "Expect: 100-continue" never uploads it (Go's server sends 100 Continue only
// when the handler reads the body). Otherwise the verifying reader withholds the last
// bytes of a body whose SHA-256 does not match the path, so the store commits nothing
// (Store contract: a Put whose source fails commits nothing). A body sent with its
// SHA-256 chain (sha256chain.Header, as the Client sends the codec's) is verified on
// all cores, interval by interval, with the same strength.
func (h *blobAPI) putBlob(w http.ResponseWriter, r *http.Request, key, digest string) {
	max := h.maxBlob
	switch {
	case r.ContentLength > max:
		writeError(w, r, http.StatusRequestEntityTooLarge, "blob of %d bytes is over the %d-byte limit", r.ContentLength, max)
		return
	case r.ContentLength < 0:
		writeError(w, r, http.StatusLengthRequired, "a blob PUT needs a Content-Length")
		return
	}
	var chain sha256chain.Chain
	if v := r.Header.Get(sha256chain.Header); v != "" {
		var err error
		if chain, err = sha256chain.Parse(v, r.ContentLength); err != nil {
			writeError(w, r, http.StatusBadRequest, "bad %s header: %v", sha256chain.Header, err)
			return
		}
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(digest)); err != nil {
		writeError(w, r, http.StatusBadRequest, "bad blob address: %v", err)
		return
	}
	if r.ContentLength == 0 && want != sha256.Sum256(nil) {
		// A store may not read an empty source at all, so nothing would be checked.
		writeError(w, r, http.StatusBadRequest, "digest mismatch: an empty body's sha256 is %x, path says %s; nothing stored",
			sha256.Sum256(nil), digest)
		return
	}
	body := &verifyingReader{r: r.Body, v: sha256chain.NewVerifier(want, r.ContentLength, chain, h.chains), size: r.ContentLength}
	created, err := h.store.Put(r.Context(), key, body, r.ContentLength)
	body.v.Wait()
	switch {
	case body.mismatch != nil:
		why := strings.TrimPrefix(body.mismatch.Error(), sha256chain.ErrMismatch.Error()+": ")
		writeError(w, r, http.StatusBadRequest, "digest mismatch: %s; nothing stored", why)
	case body.readErr != nil:
		writeError(w, r, http.StatusBadRequest, "reading the body failed after %d bytes; nothing stored: %v", body.n, body.readErr)
	case err != nil:
		h.fail.fail(w, r, "put", err)
	case created:
		if chain.Interval > 0 {
			h.verified.Add(key, chain) // proven by this upload
		}
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusOK) // present: dedupe, and its age is refreshed
	}
}

// verifyingReader hashes a request body as the store reads it. On the read that would
// complete the body it checks the digest first and, on a mismatch, returns an error in
// place of those bytes, so no store ever holds a whole unverified body.
type verifyingReader struct {
	r        io.Reader
	v        *sha256chain.Verifier
	size, n  int64
	mismatch error // the body does not match its address
	readErr  error // the client's body failed or ended short
}

// errDigestMismatch is what the store reads in place of a body's last bytes when the
// body does not match its address.
var errDigestMismatch = errors.New("payloadsvc: body does not match its sha256 address")

func (v *verifyingReader) Read(p []byte) (int, error) {
	switch {
	case v.mismatch != nil:
		return 0, errDigestMismatch
	case v.readErr != nil:
		return 0, v.readErr
	case v.n == v.size:
		return 0, io.EOF // verified by the read that completed it (putBlob checks an empty one)
	}
	if left := v.size - v.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := v.r.Read(p)
	v.v.Write(p[:n])
	v.n += int64(n)
	if v.n == v.size {
		if v.mismatch = v.v.Verify(); v.mismatch != nil {
			return 0, errDigestMismatch
		}
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		v.readErr = err
	}
	return n, err
}

// getBlob streams a blob. A Range request (a Client resuming a download) is served from
// the offset when the store's reader can seek, else the whole blob is sent (200) and the
// client skips. A store read that fails mid-way aborts the connection, so the client
// sees a broken body rather than a short one that looks complete.
func (h *blobAPI) getBlob(w http.ResponseWriter, r *http.Request, key string) {
	rc, err := h.store.Get(r.Context(), key)
	if err != nil {
		h.fail.fail(w, r, "get", err)
		return
	}
	defer rc.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Cache-Control", "private, max-age=31536000, immutable") // content-addressed
	size, known := readerSize(rc)
	status := http.StatusOK
	if off, ok := rangeStart(r.Header.Get("Range")); ok && known && off < size {
		if s, isSeeker := rc.(io.Seeker); isSeeker {
			if _, err := s.Seek(off, io.SeekStart); err == nil {
				hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, size-1, size))
				size -= off
				status = http.StatusPartialContent
			}
		}
	}
	if known {
		hdr.Set("Content-Length", strconv.FormatInt(size, 10))
		if chain, ok := h.verified.Get(key); ok && status == http.StatusOK && chain.Fits(size) {
			hdr.Set(sha256chain.Header, chain.Format())
		}
	}
	w.WriteHeader(status)
	if _, err := io.Copy(w, rc); err != nil {
		if r.Context().Err() == nil {
			h.fail.counter.WithLabelValues("get", "unavailable").Inc()
			h.log.Error("payloadsvc: blob read failed mid-stream", "request_id", requestID(r), "key", key, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// rangeStart reads the one form of Range a Client sends: "bytes=N-".
func rangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "-")
	if !ok {
		return 0, false
	}
	off, err := strconv.ParseInt(num, 10, 64)
	return off, err == nil && off > 0
}

// readerSize finds a blob's length without another store call when the driver's reader
// knows it (an *os.File, a reader with Size).
func readerSize(rc io.Reader) (int64, bool) {
	switch v := rc.(type) {
	case driver.Sizer:
		return v.Size(), v.Size() >= 0
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size(), true
		}
	}
	return 0, false
}

// headBlob reports a blob's size and refreshes its age: it is the Client's Touch.
func (h *blobAPI) headBlob(w http.ResponseWriter, r *http.Request, key string) {
	info, err := h.store.Touch(r.Context(), key)
	if err != nil {
		h.fail.fail(w, r, "touch", err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if !info.ModTime.IsZero() {
		hdr.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
}
