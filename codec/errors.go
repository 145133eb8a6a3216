package codec

import "errors"

// ErrNotFound is returned (wrapped) when a blob does not exist. Every Store's not-found
// error satisfies errors.Is(err, ErrNotFound). It is never retried.
var ErrNotFound = errors.New("blob not found")

// ErrCorrupt is returned (wrapped) when stored bytes do not match their content address,
// have the wrong length, or do not decompress or unmarshal. The bytes are never returned.
// It is never retried.
var ErrCorrupt = errors.New("blob corrupt")

// ErrInvalidReference is returned (wrapped) when a reference payload is malformed or has
// an unknown version; the message names the offending field.
var ErrInvalidReference = errors.New("invalid reference payload")

// ErrTooLarge is returned (wrapped) when a payload to offload serializes to more than
// Options.MaxSize bytes.
var ErrTooLarge = errors.New("payload too large")

// ErrInvalidKey is returned (wrapped) for a blob key or namespace outside the key grammar.
var ErrInvalidKey = errors.New("invalid blob key")

// ErrRefused is returned (wrapped) when a foreign service a Reader reads from refuses a
// request in a way asking again cannot change (an HTTP 4xx other than 404, 408 and 429).
// It is never retried; the codec server answers it with 502.
var ErrRefused = errors.New("refused by the foreign service")

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
