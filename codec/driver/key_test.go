package driver_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

func TestKeyAndParseKey(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ns, alg, digest string
		want            string // "" for ErrInvalidKey
	}{
		{"prod", driver.SHA256, hex, "v1/prod/sha256/" + hex},
		{"prod", driver.BLAKE3, hex, "v2/prod/blake3/" + hex},
		{"prod", "md5", hex, ""},
		{"prod", "", hex, ""},
		{"prod", driver.BLAKE3, strings.ToUpper(hex), ""},
		{"prod", driver.BLAKE3, hex[:63], ""},
		{"../x", driver.BLAKE3, hex, ""},
	} {
		key, err := driver.Key(tc.ns, tc.alg, tc.digest)
		if tc.want == "" {
			if !errors.Is(err, driver.ErrInvalidKey) {
				t.Errorf("Key(%q, %q, %q) = %q, %v; want ErrInvalidKey", tc.ns, tc.alg, tc.digest, key, err)
			}
			continue
		}
		if err != nil || key != tc.want {
			t.Fatalf("Key(%q, %q, ...) = %q, %v; want %q", tc.ns, tc.alg, key, err, tc.want)
		}
		ns, alg, digest, err := driver.ParseKey(key)
		if err != nil || ns != tc.ns || alg != tc.alg || digest != tc.digest {
			t.Errorf("ParseKey(%q) = %q, %q, %q, %v", key, ns, alg, digest, err)
		}
	}
}

func TestParseKeyRefusesMixedVersions(t *testing.T) {
	hex := strings.Repeat("0f", 32)
	for _, key := range []string{
		"v1/prod/blake3/" + hex, // a BLAKE3 digest never passes for a v1 key
		"v2/prod/sha256/" + hex,
		"v3/prod/blake3/" + hex,
		"v2/prod/blake3/" + hex + "/x",
		"v2//blake3/" + hex,
		"",
	} {
		if _, _, _, err := driver.ParseKey(key); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("ParseKey(%q): %v, want ErrInvalidKey", key, err)
		}
	}
}
