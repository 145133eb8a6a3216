package awschecksum

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

type validationError struct{}

func (validationError) Error() string {
	return "checksum did not match: algorithm CRC32, expect AAAA, actual BBBB"
}

func TestIsMismatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"the SDK's error", validationError{}, true},
		{"wrapped", fmt.Errorf("read body: %w", validationError{}), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, false},
		{"other", errors.New("connection reset: checksum did not match"), false},
		{"nil", nil, false},
	} {
		if got := IsMismatch(tc.err); got != tc.want {
			t.Errorf("%s: IsMismatch = %v, want %v", tc.name, got, tc.want)
		}
	}
}
