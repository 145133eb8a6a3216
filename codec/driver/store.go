package driver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Store holds blobs under content-address keys. Drivers move bytes and own their
// retries; the Codec validates keys, hashes and verifies content and counts.
//
// Contract (checked for every driver by codec/storetest):
//   - Put stores size bytes from src under key unless the key exists, and reports whether
//     this call created the object. For an existing key it returns (false, nil) without
//     reading src, after refreshing the object's age as Touch does, so one existence check
//     serves dedupe end to end. src is read once, sequentially, from its current position;
//     a driver may instead read an io.ReaderAt src in place at offsets [0, size) (parallel
//     parts, per-part retries). Put is atomic: no reader ever sees a partial object, and a
//     Put whose source fails or ends short commits nothing, so a verifying reader can
//     guard a Put.
//   - Get returns the object's bytes; a missing key is an error satisfying
//     errors.Is(err, ErrNotFound). The caller closes the reader. The reader should have a
//     Size() int64 method giving the object's real length (see Sizer): the Codec then
//     allocates once, from what the store holds rather than what a reference claims. A
//     body that breaks off mid-way is resumed by the driver or is an error, never a
//     short read that looks complete.
//   - Touch reports an object's size and refreshes its age, so that an age-based retention
//     rule counts from the last use, not from the first write (dedupe makes old blobs
//     referenced by new workflows). Drivers may skip the refresh when the object is young.
//     A missing key is ErrNotFound.
//
// Retries belong to the driver (per request, part or range), under a RetryPolicy with
// Retry; a driver returns its exhausted retries as Permanent errors and never retries
// ErrNotFound, ErrCorrupt or a cancelled context. No layer above retries a driver's
// failure again. WithRetry adds retries to a driver that has none.
//
// Keys look like "v1/{namespace}/sha256/{hex}" or "v2/{namespace}/blake3/{hex}" (see Key);
// drivers may rely on ValidateKey's grammar.
type Store interface {
	Put(ctx context.Context, key string, src io.Reader, size int64) (created bool, err error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Touch(ctx context.Context, key string) (Info, error)
}

// Sizer is implemented by readers that know the length of what they read: the readers a
// Store's Get returns should implement it (bytes.Reader, a file, an HTTP body with a
// Content-Length). A negative size means unknown.
type Sizer interface {
	Size() int64
}

// SHA256Chainer is implemented by the Put sources the Codec passes. Besides the bytes it
// gives the SHA-256 chaining states the Codec recorded while hashing them: crypto/sha256's
// marshaled state after every interval bytes (none for a blob of one interval), so a
// store that verifies what it receives can check it on all cores instead of in one
// serial pass. blobclient.Client sends them to the service with the body; drivers that do
// not verify ignore them, and a verifier must treat them as claims (see
// internal/sha256chain: a false state can only make the check fail).
type SHA256Chainer interface {
	SHA256Chain() (interval int64, states [][]byte)
}

// Info describes a stored object.
type Info struct {
	// Size is the object's length in bytes.
	Size int64
	// ModTime is the object's age reference after the Touch (zero if the driver has none).
	ModTime time.Time
}

// The content-address hashes, as keys and references spell them. Each has its own key
// version, so that the key names the hash and a blob of one never passes for the other.
const (
	// SHA256 addresses "v1/{namespace}/sha256/{hex}" (references v1; FIPS deployments).
	SHA256 = "sha256"
	// BLAKE3 addresses "v2/{namespace}/blake3/{hex}" (references v2).
	BLAKE3 = "blake3"
)

// keyVersions maps each hash to the first segment of its keys.
var keyVersions = map[string]string{SHA256: "v1", BLAKE3: "v2"}

// KeyVersions returns the first segments of all keys, "v1" and "v2": a store's blobs live
// under them (sweeps and retention rules cover each).
func KeyVersions() []string { return []string{"v1", "v2"} }

// Key returns the key of a blob: "v1/{namespace}/sha256/{hex}" or
// "v2/{namespace}/blake3/{hex}".
func Key(namespace, algorithm, hexDigest string) (string, error) {
	if err := ValidateNamespace(namespace); err != nil {
		return "", err
	}
	v, ok := keyVersions[algorithm]
	if !ok {
		return "", fmt.Errorf("%w: hash %q is none of %q, %q", ErrInvalidKey, truncate(algorithm, 40), SHA256, BLAKE3)
	}
	if !IsDigestHex(hexDigest) {
		return "", fmt.Errorf("%w: %s %q is not 64 lowercase hex digits", ErrInvalidKey, algorithm, truncate(hexDigest, 80))
	}
	return v + "/" + namespace + "/" + algorithm + "/" + hexDigest, nil
}

// ParseKey splits a key of Key's grammar into its namespace, hash and digest; anything
// else is ErrInvalidKey.
func ParseKey(key string) (namespace, algorithm, hexDigest string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) == 4 {
		if want, err := Key(parts[1], parts[2], parts[3]); err == nil && want == key {
			return parts[1], parts[2], parts[3], nil
		}
	}
	return "", "", "", fmt.Errorf("%w: key %q is not v1/{namespace}/sha256/{hex} or v2/{namespace}/blake3/{hex}",
		ErrInvalidKey, truncate(key, 160))
}

// ValidateNamespace checks a Temporal namespace name for use in a key: 1-255 characters
// of [A-Za-z0-9._-], starting with a letter or digit (so never "." or "..").
func ValidateNamespace(ns string) error {
	switch {
	case ns == "":
		return fmt.Errorf("%w: namespace is empty", ErrInvalidKey)
	case len(ns) > 255:
		return fmt.Errorf("%w: namespace is %d characters, over 255", ErrInvalidKey, len(ns))
	case !isAlnum(ns[0]):
		return fmt.Errorf("%w: namespace %q must start with a letter or digit", ErrInvalidKey, truncate(ns, 80))
	}
	if c, bad := badChar(ns); bad {
		return fmt.Errorf("%w: namespace %q has character %q (allowed: letters, digits, '.', '_', '-')",
			ErrInvalidKey, truncate(ns, 80), c)
	}
	return nil
}

// ValidateKey checks the key grammar drivers rely on: slash-separated segments of
// [A-Za-z0-9._-], none empty, "." or "..", at most 1024 bytes. It keeps keys safe as
// file paths and URL paths.
func ValidateKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w: key length %d (want 1..1024)", ErrInvalidKey, len(key))
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: key %q has an empty, '.' or '..' segment", ErrInvalidKey, truncate(key, 120))
		}
		if c, bad := badChar(seg); bad {
			return fmt.Errorf("%w: key %q has character %q", ErrInvalidKey, truncate(key, 120), c)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// badChar returns the first byte of s outside the key alphabet [A-Za-z0-9._-].
func badChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return c, true
		}
	}
	return 0, false
}

// IsDigestHex reports whether s is a digest as keys spell it: 64 lowercase hex digits
// (32-byte SHA-256 and BLAKE3 alike).
func IsDigestHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Name names a store in errors and logs: its String method, else its type.
func Name(s any) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
