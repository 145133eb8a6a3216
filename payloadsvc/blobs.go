package payloadsvc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// serveBlob is the blob API: PUT, GET and HEAD of /v1/namespaces/{ns}/blobs/sha256/{hex}.
func (h *handler) serveBlob(w http.ResponseWriter, r *http.Request, rt route) {
	if !h.namespaceFor(w, r, rt.namespace) {
		return
	}
	key, err := codec.BlobKey(rt.namespace, rt.digest)
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

// putBlob stores a verified body. A blob that exists is refreshed and answered 200
// before the body is read, so a client that sent "Expect: 100-continue" never uploads
// it (Go's server sends 100 Continue only when the handler reads the body). Otherwise
// the body goes to a temporary file while it is hashed, and only a body whose SHA-256
// matches the path reaches the store: a reader of the store never sees unverified bytes.
func (h *handler) putBlob(w http.ResponseWriter, r *http.Request, key, digest string) {
	max := h.opts.MaxBlobBytes
	if r.ContentLength > max {
		writeError(w, r, http.StatusRequestEntityTooLarge, "blob of %d bytes is over the %d-byte limit", r.ContentLength, max)
		return
	}
	if _, err := h.store.Touch(r.Context(), key); err == nil {
		w.WriteHeader(http.StatusOK) // present: dedupe, and its age is refreshed
		return
	} else if !errors.Is(err, codec.ErrNotFound) {
		h.storeFailure(w, r, "touch", err)
		return
	}

	tmp, err := os.CreateTemp(h.opts.TempDir, "payloadsvc-put-*")
	if err != nil {
		h.log.Error("payloadsvc: temporary file", "request_id", requestID(r), "error", err)
		writeError(w, r, http.StatusInternalServerError, "cannot buffer the body: %v", err)
		return
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, r, http.StatusRequestEntityTooLarge, "blob is over the %d-byte limit; nothing stored", max)
		case isWriteErr(err, tmp):
			writeError(w, r, http.StatusInternalServerError, "cannot buffer the body: %v", err)
		default:
			writeError(w, r, http.StatusBadRequest, "reading the body failed after %d bytes; nothing stored: %v", n, err)
		}
		return
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != digest {
		writeError(w, r, http.StatusBadRequest, "digest mismatch: body sha256 is %s, path says %s; nothing stored", got, digest)
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		writeError(w, r, http.StatusInternalServerError, "cannot rewind the buffered body: %v", err)
		return
	}
	if err := h.store.Put(r.Context(), key, tmp, n); err != nil {
		h.storeFailure(w, r, "put", err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// isWriteErr reports whether err came from writing f (disk full and the like) rather
// than from reading the request.
func isWriteErr(err error, f *os.File) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Path == f.Name()
}

// getBlob streams a blob. A store read that fails mid-way aborts the connection, so the
// client sees a broken body rather than a short one that looks complete.
func (h *handler) getBlob(w http.ResponseWriter, r *http.Request, key string) {
	rc, err := h.store.Get(r.Context(), key)
	if err != nil {
		h.storeFailure(w, r, "get", err)
		return
	}
	defer rc.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Cache-Control", "private, max-age=31536000, immutable") // content-addressed
	if size, ok := readerSize(rc); ok {
		hdr.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		if r.Context().Err() == nil {
			h.metrics.storeErrors.WithLabelValues("get", "unavailable").Inc()
			h.log.Error("payloadsvc: blob read failed mid-stream", "request_id", requestID(r), "key", key, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// readerSize finds a blob's length without another store call when the driver's reader
// knows it (an *os.File, a reader with Size).
func readerSize(rc io.Reader) (int64, bool) {
	switch v := rc.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size(), true
		}
	case interface{ Size() int64 }:
		return v.Size(), true
	}
	return 0, false
}

// headBlob reports a blob's size and refreshes its age: it is the Client's Touch.
func (h *handler) headBlob(w http.ResponseWriter, r *http.Request, key string) {
	info, err := h.store.Touch(r.Context(), key)
	if err != nil {
		h.storeFailure(w, r, "touch", err)
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
