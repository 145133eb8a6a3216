package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// The PUT side of the DataDog service double: what DataDog's codec calls to store a blob,
// so references come from the service's own key, as in production.

// validPrefix is the grammar the v2 handler allows for a "remote-codec/key-prefix".
var validPrefix = regexp.MustCompile(`^[0-9a-zA-Z_\-/]+$`).MatchString

// put is the v1 or v2 PUT handler: v1 stores under "blobs/<digest>"; v2 checks the
// namespace, digest and metadata header, stores under its key and verifies the digest.
func (s *DataDogService) put(w http.ResponseWriter, r *http.Request, version int) {
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodPut:
		refuse(w, http.StatusMethodNotAllowed, "")
		return
	case r.Header.Get("Content-Type") != "application/octet-stream":
		refuse(w, http.StatusBadRequest, "missing or incorrect Content-Type header")
		return
	case version == 1 && q.Get("digest") == "":
		refuse(w, http.StatusBadRequest, "digest query parameter is required")
		return
	case r.Header.Get("Content-Length") == "":
		refuse(w, http.StatusLengthRequired, "")
		return
	case r.ContentLength > 1<<30:
		refuse(w, http.StatusRequestEntityTooLarge, "payload exceeds max size of 1073741824 bytes")
		return
	}
	key := "blobs/" + q.Get("digest")
	if version == 2 {
		var err error
		if key, err = putKey(r); err != nil {
			refuse(w, http.StatusBadRequest, err.Error())
			return
		}
		if _, ok := s.Blob(key); ok {
			w.WriteHeader(http.StatusOK)
			_ = json.NewEncoder(w).Encode(struct{ Key string }{key})
			return
		}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		refuse(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	s.blobs[key] = buf.Bytes()
	s.mu.Unlock()
	if sum := sha256.Sum256(buf.Bytes()); version == 2 && "sha256:"+hex.EncodeToString(sum[:]) != q.Get("digest") {
		refuse(w, http.StatusBadRequest, "checksum mismatch") // stored all the same, as the real one
		return
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(struct{ Key string }{key})
}

// putKey validates a v2 PUT and returns the key the real handler computes:
// /blobs/<ns>/common/<digest>/<metadata hash>, or .../custom/<prefix>/... when the
// metadata carries "remote-codec/key-prefix".
func putKey(r *http.Request) (string, error) {
	q := r.URL.Query()
	ns, digest := q.Get("namespace"), q.Get("digest")
	if ns == "" {
		return "", errors.New("namespace query parameter is required")
	}
	if digest == "" {
		return "", errors.New("digest query parameter is required")
	}
	if algo, _, _ := strings.Cut(digest, ":"); strings.Count(digest, ":") != 1 || algo != "sha256" {
		return "", fmt.Errorf("invalid digest format '%s'", digest)
	}
	raw, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Temporal-Metadata"))
	if err != nil {
		return "", err
	}
	var md map[string][]byte
	if err := json.Unmarshal(raw, &md); err != nil {
		return "", err
	}
	return DataDogKey(ns, digest, md)
}
