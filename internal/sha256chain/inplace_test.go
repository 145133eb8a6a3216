package sha256chain

import (
	"bytes"
	"errors"
	"testing"
)

// fill copies b into a buffer of its length in uneven reads, advancing v after each.
func fill(v *InPlace, buf, b []byte) {
	n := 0
	for i := 0; n < len(b); i++ {
		k := min(len(b)-n, 1+i*7919%300_000)
		copy(buf[n:], b[n:n+k])
		n += k
		v.Advance(int64(n))
	}
}

func TestInPlace(t *testing.T) {
	const n = 5*MinInterval + 1000
	b := body(n, 21)
	sum, c := Sum([][]byte{b}, MinInterval)
	other := body(n, 22)
	_, otherChain := Sum([][]byte{other}, MinInterval)
	flipped := bytes.Clone(b)
	flipped[3*MinInterval+9] ^= 4
	cases := []struct {
		name  string
		body  []byte
		chain Chain
		ok    bool
	}{
		{"the true body", b, c, true},
		{"a byte flipped", flipped, c, false},
		{"another body's chain", b, otherChain, false},
		{"another body with its chain", other, otherChain, false},
	}
	for _, tc := range cases {
		for _, workers := range []int{0, 1, 4} {
			buf := make([]byte, 0, n)
			v, err := NewInPlace(sum, tc.chain, buf, workers)
			if err != nil {
				t.Fatal(err)
			}
			fill(v, buf[:n], tc.body)
			err = v.Verify()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrMismatch)) {
				t.Errorf("%s, %d workers: Verify = %v", tc.name, workers, err)
			}
		}
	}
	t.Run("short", func(t *testing.T) {
		buf := make([]byte, 0, n)
		v, _ := NewInPlace(sum, c, buf, 2)
		fill(v, buf[:n], b[:n-1])
		if err := v.Verify(); !errors.Is(err, ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
	t.Run("chain for another size", func(t *testing.T) {
		if _, err := NewInPlace(sum, c, make([]byte, 0, n+MinInterval), 2); !errors.Is(err, ErrMalformed) {
			t.Fatalf("NewInPlace = %v, want ErrMalformed", err)
		}
	})
}
