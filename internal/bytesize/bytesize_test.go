package bytesize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "-1": -1, "1024": 1024, "7B": 7, "1KiB": 1024, "64MiB": 64 << 20, "1 GiB": 1 << 30, " 50MiB ": 50 << 20} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "abc", "1.5MiB", "5MB", "99999999999GiB"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 50 << 20: "50.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
