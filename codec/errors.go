package codec

import (
	"errors"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// ErrInvalidReference is returned (wrapped) when a reference payload is malformed or has
// an unknown version; the message names the offending field. It is permanent
// (driver.IsPermanent): asking again cannot change it.
var ErrInvalidReference = driver.Permanent(errors.New("invalid reference payload"))

// ErrTooLarge is returned (wrapped) when a payload to offload serializes to more than
// Options.MaxSize bytes.
var ErrTooLarge = errors.New("payload too large")

// ErrRefused is returned (wrapped) when a foreign service a Reader reads from refuses a
// request in a way asking again cannot change (an HTTP 4xx other than 404, 408 and 429).
// It is never retried; the codec server answers it with 502.
var ErrRefused = errors.New("refused by the foreign service")
