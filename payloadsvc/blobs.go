package payloadsvc

import (
	"bytes"
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
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// blobAPI is the blob API: PUT, GET and HEAD of /v1/namespaces/{ns}/blobs/{hash}/{hex},
// hash "sha256" or "blake3", under the namespace and auth layers.
type blobAPI struct {
	store   driver.Store
	maxBlob int64                // Options.MaxBlobBytes
	chains  *sha256chain.Limiter // sha256 PUT bodies' intervals hashed on spare cores
	batches *batchSlots          // blake3 PUT bodies' small reads hashed in batches beside them
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
		batches: newBatchSlots(maxBatchSlots), verified: verified, fail: fail, log: log}, nil
}

func (h *blobAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := requestInfoFrom(r.Context()).rt
	key, err := driver.Key(rt.namespace, rt.algorithm, rt.digest)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "bad blob address: %v", err)
		return
	}
	switch r.Method {
	case http.MethodPut:
		h.putBlob(w, r, key, rt.algorithm, rt.digest)
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
// bytes of a body whose hash (the path's algorithm) does not match the path, so the store
// commits nothing (Store contract: a Put whose source fails commits nothing). A sha256
// body sent with its SHA-256 chain (sha256chain.Header, as the Client sends the codec's)
// is verified on all cores, interval by interval, with the same strength; a blake3 body
// is, as BLAKE3 is a tree, without one.
func (h *blobAPI) putBlob(w http.ResponseWriter, r *http.Request, key, alg, digest string) {
	max := h.maxBlob
	switch {
	case r.ContentLength > max:
		writeError(w, r, http.StatusRequestEntityTooLarge, "blob of %d bytes is over the %d-byte limit", r.ContentLength, max)
		return
	case r.ContentLength < 0:
		writeError(w, r, http.StatusLengthRequired, "a blob PUT needs a Content-Length")
		return
	}
	check, chain, ok := h.newCheck(w, r, alg, digest)
	if !ok {
		return
	}
	body := &verifyingReader{r: r.Body, v: check, alg: alg, size: r.ContentLength}
	created, err := h.store.Put(r.Context(), key, body, r.ContentLength)
	body.v.Wait()
	switch {
	case body.mismatch != nil:
		writeError(w, r, http.StatusBadRequest, "digest mismatch: %s; nothing stored", mismatchReason(body.mismatch))
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

// bodyCheck verifies a PUT body, written to it in order, against the digest of its
// address: a *sha256chain.Verifier or a *blake3Check.
type bodyCheck interface {
	io.Writer
	// Verify waits for the hashing and reports whether the whole body matched: nil, or
	// an error wrapping the check's mismatch sentinel with what differs.
	Verify() error
	// Wait lets the hashing finish without a verdict (a body abandoned mid-way).
	Wait()
}

// newCheck returns the check of a PUT body against digest by the path's algorithm:
// SHA-256 through the chain the request may carry, BLAKE3 beside the reads. It
// answers a bad request itself (false).
func (h *blobAPI) newCheck(w http.ResponseWriter, r *http.Request, alg, digest string) (bodyCheck, sha256chain.Chain, bool) {
	var chain sha256chain.Chain
	if v := r.Header.Get(sha256chain.Header); v != "" {
		if alg != driver.SHA256 {
			writeError(w, r, http.StatusBadRequest, "a %s blob PUT takes no %s header: its BLAKE3 check needs none",
				alg, sha256chain.Header)
			return nil, chain, false
		}
		var err error
		if chain, err = sha256chain.Parse(v, r.ContentLength); err != nil {
			writeError(w, r, http.StatusBadRequest, "bad %s header: %v", sha256chain.Header, err)
			return nil, chain, false
		}
	}
	var want [contenthash.Size]byte
	if _, err := hex.Decode(want[:], []byte(digest)); err != nil {
		writeError(w, r, http.StatusBadRequest, "bad blob address: %v", err)
		return nil, chain, false
	}
	if r.ContentLength == 0 {
		hh, _ := contenthash.New(alg) // the route knows alg
		if empty := hh.Sum(nil); !bytes.Equal(empty, want[:]) {
			// A store may not read an empty source at all, so nothing would be checked.
			writeError(w, r, http.StatusBadRequest, "digest mismatch: an empty body's %s is %x, path says %s; nothing stored",
				alg, empty, digest)
			return nil, chain, false
		}
	}
	if alg == driver.BLAKE3 {
		return newBlake3Check(want, r.ContentLength, h.batches), chain, true
	}
	return sha256chain.NewVerifier(want, r.ContentLength, chain, h.chains), chain, true
}

// verifyingReader hashes a request body as the store reads it. On the read that would
// complete the body it checks the digest first and, on a mismatch, returns an error in
// place of those bytes, so no store ever holds a whole unverified body.
type verifyingReader struct {
	r        io.Reader
	v        bodyCheck
	alg      string // the address's hash, named in the store's error
	size, n  int64
	mismatch error // the body does not match its address: what the check said
	refused  error // what the store reads in place of the last bytes then
	readErr  error // the client's body failed or ended short
}

// errDigestMismatch is what the store reads (wrapped, naming the hash and what differs)
// in place of a body's last bytes when the body does not match its address.
var errDigestMismatch = errors.New("payloadsvc: digest mismatch")

// mismatchReason is what a check's mismatch error says differs, without its sentinel.
func mismatchReason(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return strings.TrimPrefix(err.Error(), inner.Error()+": ")
	}
	return err.Error()
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	switch {
	case v.refused != nil:
		return 0, v.refused
	case v.readErr != nil:
		return 0, v.readErr
	case v.n == v.size:
		return 0, io.EOF // verified by the read that completed it (newCheck checks an empty one)
	}
	if left := v.size - v.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := v.r.Read(p)
	v.v.Write(p[:n])
	v.n += int64(n)
	if v.n == v.size {
		if v.mismatch = v.v.Verify(); v.mismatch != nil {
			v.refused = fmt.Errorf("%w: body does not match its %s address: %s", errDigestMismatch, v.alg, mismatchReason(v.mismatch))
			return 0, v.refused
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
