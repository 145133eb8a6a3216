package interceptor

import "testing"

// TestIDsGolden pins the id derivation: workers of two versions of this package run the
// same workflows during a rolling upgrade and must compute the same ids.
func TestIDsGolden(t *testing.T) {
	for _, tc := range []struct {
		got, want uint64
	}{
		{spanIDFor("default", "run-1", 0), 8828738151556192374},
		{spanIDFor("default", "run-1", 1), 4778306684309912687},
		{traceIDFor("default", "wf-1", "run-1"), 7540046136487434863},
		{validateSpanIDFor("default", "run-1", "upd-1"), 2916170109899863906},
	} {
		if tc.got != tc.want {
			t.Errorf("id = %d, want %d", tc.got, tc.want)
		}
	}
}

func TestIDsDistinct(t *testing.T) {
	seen := map[uint64]string{}
	add := func(id uint64, what string) {
		t.Helper()
		if id == 0 || id>>63 != 0 {
			t.Errorf("%s: id %d is not a non-zero 63-bit number", what, id)
		}
		if prev, ok := seen[id]; ok {
			t.Errorf("%s and %s share id %d", what, prev, id)
		}
		seen[id] = what
	}
	for _, run := range []string{"a", "b", "ab"} {
		for seq := uint64(0); seq < 1000; seq++ {
			add(spanIDFor("ns", run, seq), "span "+run)
		}
		add(traceIDFor("ns", "wf", run), "trace "+run)
		add(validateSpanIDFor("ns", run, "0"), "validate "+run)
	}
	// Parts are length-prefixed: moving a boundary changes the id.
	if traceIDFor("n", "sw", "f") == traceIDFor("ns", "w", "f") {
		t.Error("ids collide when part boundaries move")
	}
}
