// Package bytesize parses and prints byte counts the way longhaul's flags and reports
// write them: 1024, 64KiB, 50MiB, 1GiB (binary units).
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

var units = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// Parse reads a byte count: an integer, optionally followed (with or without a space) by
// B, KiB, MiB or GiB. Negative values are returned as such; callers decide what they mean.
func Parse(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want an integer, optionally with B, KiB, MiB or GiB", s)
	}
	if v > 0 && v > (1<<62)/mult || v < 0 && -v > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return v * mult, nil
}

// Format prints n with one decimal in the largest binary unit that keeps it at least 1.
func Format(n int64) string {
	for _, u := range units[:3] {
		if n >= u.mult {
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.mult), u.suffix)
		}
	}
	return fmt.Sprintf("%d B", n)
}
