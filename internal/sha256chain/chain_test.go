package sha256chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func body(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// split cuts b into pieces of uneven lengths, as the codec's wire pieces are.
func split(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(len(b), 1+len(out)*333_333%1_500_000)
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// feed writes b to v in uneven writes, as socket reads arrive.
func feed(v *Verifier, b []byte) {
	for i := 0; len(b) > 0; i++ {
		n := min(len(b), 1+i*7919%200_000)
		v.Write(b[:n])
		b = b[n:]
	}
}

func TestIntervalFor(t *testing.T) {
	for _, tc := range []struct{ size, want int64 }{
		{0, 0}, {1 << 20, 0}, {1<<20 + 1, 1 << 20}, {64 << 20, 1 << 20}, {64<<20 + 1, 2 << 20},
		{256 << 20, 4 << 20}, {1 << 30, 16 << 20}, {129 * MaxInterval, 16 << 20}, {129*MaxInterval + 1, 0}, {8 << 30, 0},
	} {
		if got := IntervalFor(tc.size); got != tc.want {
			t.Errorf("IntervalFor(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestSumMatchesSHA256(t *testing.T) {
	for _, n := range []int{0, 1, MinInterval - 1, MinInterval, MinInterval + 1, 3*MinInterval + 17, 4 * MinInterval} {
		b := body(n, uint64(n))
		for _, iv := range []int64{0, MinInterval} {
			sum, c := Sum(split(b), iv)
			if sum != sha256.Sum256(b) {
				t.Fatalf("size %d interval %d: Sum is not SHA-256", n, iv)
			}
			wantStates := 0
			if iv > 0 && n > 0 {
				wantStates = int(chunks(int64(n), iv)) - 1
			}
			if len(c.States) != wantStates {
				t.Fatalf("size %d interval %d: %d states, want %d", n, iv, len(c.States), wantStates)
			}
			// The states do not depend on how the body was cut.
			_, whole := Sum([][]byte{b}, iv)
			for i := range c.States {
				if !bytes.Equal(c.States[i], whole.States[i]) {
					t.Fatalf("size %d: state %d differs between piece layouts", n, i)
				}
			}
		}
	}
}

func TestVerifyAcceptsTheTrueBody(t *testing.T) {
	for _, n := range []int{0, 1, MinInterval + 1, 3*MinInterval + 17, 4 * MinInterval, 9 * MinInterval} {
		for _, lim := range []*Limiter{nil, NewLimiter(1), NewLimiter(4)} {
			b := body(n, 7)
			sum, c := Sum([][]byte{b}, MinInterval)
			v := NewVerifier(sum, int64(n), c, lim)
			feed(v, b)
			if err := v.Verify(); err != nil {
				t.Fatalf("size %d: %v", n, err)
			}
			if lim != nil && len(lim.slots) != 0 {
				t.Fatalf("size %d: %d slots still taken after Verify", n, len(lim.slots))
			}
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	const n = 5*MinInterval + 1000
	b := body(n, 1)
	sum, c := Sum([][]byte{b}, MinInterval)
	other := body(n, 2)
	otherSum, otherChain := Sum([][]byte{other}, MinInterval)
	flip := func(at int) []byte {
		x := bytes.Clone(b)
		x[at] ^= 1
		return x
	}
	swapped := Chain{Interval: c.Interval, States: append([][]byte(nil), c.States...)}
	swapped.States[1], swapped.States[2] = swapped.States[2], swapped.States[1]
	cases := []struct {
		name  string
		body  []byte
		want  [32]byte
		chain Chain
	}{
		{"byte flipped in the first interval", flip(0), sum, c},
		{"byte flipped in a middle interval", flip(2*MinInterval + 5), sum, c},
		{"byte flipped in the last interval", flip(n - 1), sum, c},
		{"byte flipped, serial", flip(3 * MinInterval), sum, Chain{}},
		{"another body under this digest, its own chain", other, sum, otherChain},
		{"another body under this digest and chain", other, sum, c},
		{"this body, its chain, another digest", b, otherSum, c},
		{"states swapped", b, sum, swapped},
		{"short body", b[:n-1], sum, c},
		{"short body, serial", b[:n-1], sum, Chain{}},
	}
	for _, tc := range cases {
		for _, lim := range []*Limiter{nil, NewLimiter(2)} {
			t.Run(tc.name, func(t *testing.T) {
				v := NewVerifier(tc.want, n, tc.chain, lim)
				feed(v, tc.body)
				if err := v.Verify(); !errors.Is(err, ErrMismatch) {
					t.Fatalf("Verify = %v, want ErrMismatch", err)
				}
			})
		}
	}
	t.Run("long body", func(t *testing.T) {
		v := NewVerifier(sum, n, c, NewLimiter(2))
		feed(v, append(bytes.Clone(b), 'x'))
		if err := v.Verify(); !errors.Is(err, ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
}

// A chain claimed for the attacker's body but naming the victim's digest: every
// interval may check, but the last cannot end in a digest it does not hash to.
func TestVerifyForgedLastState(t *testing.T) {
	const n = 3 * MinInterval
	victim, attacker := body(n, 10), body(n, 11)
	victimSum, _ := Sum([][]byte{victim}, MinInterval)
	_, attackerChain := Sum([][]byte{attacker}, MinInterval)
	v := NewVerifier(victimSum, n, attackerChain, NewLimiter(2))
	feed(v, attacker)
	err := v.Verify()
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify = %v, want ErrMismatch", err)
	}
	if !strings.Contains(err.Error(), "interval 3 of 3") {
		t.Fatalf("Verify = %v; want it to name the last interval", err)
	}
}

func TestFormatParse(t *testing.T) {
	const n = 9*MinInterval + 3
	b := body(n, 3)
	_, c := Sum([][]byte{b}, MinInterval)
	got, err := Parse(c.Format(), n)
	if err != nil {
		t.Fatal(err)
	}
	if got.Interval != c.Interval || len(got.States) != len(c.States) {
		t.Fatalf("Parse(Format) = %d states at %d, want %d at %d", len(got.States), got.Interval, len(c.States), c.Interval)
	}
	for i := range c.States {
		if !bytes.Equal(got.States[i], c.States[i]) {
			t.Fatalf("state %d differs after Parse(Format)", i)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const n = 3 * MinInterval
	_, c := Sum([][]byte{body(n, 4)}, MinInterval)
	good := strings.Fields(c.Format())
	state := good[1]
	notState := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, stateLen))
	mib := strconv.Itoa(MinInterval)
	cases := []struct {
		name, value string
		size        int64
	}{
		{"empty", "", n},
		{"interval not a number", "abc " + state + " " + state, n},
		{"interval not a power of two", "3000000 " + state, n},
		{"interval too small", "65536 " + strings.Repeat(state+" ", 47) + state, n},
		{"interval too large", strconv.Itoa(MaxInterval*2) + " " + state, 3 * MaxInterval},
		{"negative interval", "-1048576 " + state, n},
		{"too few states", mib + " " + state, n},
		{"too many states", mib + " " + state + " " + state + " " + state, n},
		{"body of one interval", mib + " " + state, MinInterval},
		{"state too short", mib + " " + state[:40] + " " + state, n},
		{"state not base64", mib + " " + strings.Repeat("!", len(state)) + " " + state, n},
		{"not a SHA-256 state", mib + " " + notState + " " + state, n},
		{"double space", mib + "  " + state, n},
		{"a million states claimed", mib + strings.Repeat(" x", 1_000_000), n},
		{"more states than allowed", mib + strings.Repeat(" "+state, 200), 201 * MinInterval},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.value, tc.size); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestLimiterBoundsSlots(t *testing.T) {
	l := NewLimiter(2)
	a, b := l.take(MinInterval), l.take(MinInterval)
	if a == nil || b == nil {
		t.Fatal("a free slot was refused")
	}
	if c := l.take(MinInterval); c != nil {
		t.Fatal("a third buffer was handed out with two slots")
	}
	l.give(MinInterval, a)
	if c := l.take(MinInterval); c == nil || cap(c) < MinInterval {
		t.Fatal("a returned slot was not reused")
	}
	var nilLim *Limiter
	if nilLim.take(MinInterval) != nil {
		t.Fatal("a nil Limiter handed out a buffer")
	}
}

// Many bodies through one Limiter at once: every one verifies, and every slot comes back.
func TestVerifyConcurrent(t *testing.T) {
	l := NewLimiter(3)
	var wg sync.WaitGroup
	for k := range 8 {
		wg.Go(func() {
			b := body(4*MinInterval+k, uint64(k))
			sum, c := Sum([][]byte{b}, MinInterval)
			v := NewVerifier(sum, int64(len(b)), c, l)
			feed(v, b)
			if err := v.Verify(); err != nil {
				t.Errorf("body %d: %v", k, err)
			}
		})
	}
	wg.Wait()
	if len(l.slots) != 0 {
		t.Fatalf("%d slots still taken", len(l.slots))
	}
}

func BenchmarkVerify64MiB(b *testing.B) {
	data := body(64<<20, 5)
	sum, c := Sum([][]byte{data}, IntervalFor(int64(len(data))))
	for _, bc := range []struct {
		name  string
		chain Chain
		lim   *Limiter
	}{{"serial", Chain{}, nil}, {"chain", c, NewLimiter(4)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				v := NewVerifier(sum, int64(len(data)), bc.chain, bc.lim)
				for p := data; len(p) > 0; p = p[min(len(p), 64<<10):] {
					v.Write(p[:min(len(p), 64<<10)])
				}
				if err := v.Verify(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
