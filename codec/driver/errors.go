package driver

import "errors"

// ErrNotFound is returned (wrapped) when a blob does not exist. Every Store's not-found
// error satisfies errors.Is(err, ErrNotFound). It is never retried.
var ErrNotFound = errors.New("blob not found")

// ErrCorrupt is returned (wrapped) when stored bytes do not match their content address,
// have the wrong length, or do not decompress or unmarshal. The bytes are never returned.
// It is never retried.
var ErrCorrupt = errors.New("blob corrupt")

// ErrInvalidKey is returned (wrapped) for a blob key or namespace outside the key grammar.
var ErrInvalidKey = errors.New("invalid blob key")

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err so that Retry does not retry it, e.g. a 4xx from a remote store,
// or what is left when a driver's retries are spent. ErrNotFound, ErrCorrupt,
// ErrInvalidKey and context errors are permanent already; an error that is permanent is
// returned as it is.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanentError{err}
}
