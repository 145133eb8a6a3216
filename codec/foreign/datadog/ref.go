package datadog

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// ref is the data of a DataDog reference payload.
type ref struct {
	Metadata map[string][]byte `json:"metadata"`
	Size     int64             `json:"size"`
	Digest   string            `json:"digest"`
	Key      string            `json:"key"`
}

// parseRef decodes and checks a reference's data and returns it with the hex of its digest.
// Errors wrap codec.ErrInvalidReference; hostile values are quoted shortened (%.80q).
func parseRef(version string, data []byte) (ref, string, error) {
	var r ref
	if len(data) > maxRefBytes {
		return r, "", fmt.Errorf("%w: DataDog reference is %d bytes, over %d", codec.ErrInvalidReference, len(data), maxRefBytes)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, "", fmt.Errorf("%w: DataDog %s reference: %v", codec.ErrInvalidReference, version, err)
	}
	sum, ok := strings.CutPrefix(r.Digest, "sha256:")
	switch {
	case !ok || !driver.IsDigestHex(sum):
		return r, "", fmt.Errorf("%w: DataDog reference field \"digest\" is %.80q, want sha256:<64 hex>", codec.ErrInvalidReference, r.Digest)
	case r.Size < 0:
		return r, "", fmt.Errorf("%w: DataDog reference field \"size\" is negative (%d)", codec.ErrInvalidReference, r.Size)
	case version == "v2" && r.Key == "":
		return r, "", fmt.Errorf("%w: DataDog v2 reference field \"key\" is empty", codec.ErrInvalidReference)
	}
	if err := codec.CheckMetadata(r.Metadata); err != nil {
		return r, "", fmt.Errorf("%w: DataDog reference field \"metadata\": %v", codec.ErrInvalidReference, err)
	}
	return r, sum, nil
}

// keyNamespace checks a v2 key, "/blobs/{ns}/common/{digest}/{metadata hash}" or
// "/blobs/{ns}/custom/{prefix...}/{digest}/{metadata hash}", and returns its namespace.
// DataDog's service unescapes the key once more, so no '%' is allowed at all.
func keyNamespace(key string) (string, error) {
	if !strings.HasPrefix(key, "/blobs/") || strings.Contains(key, "%") {
		return "", fmt.Errorf("%w: DataDog v2 key %.120q is not /blobs/{namespace}/... without '%%'", codec.ErrInvalidReference, key)
	}
	return codec.ContainedKey(key, 1, "")
}
