package blobxfer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Location is where a store keeps its blobs: a bucket (or container) and a key prefix.
// Every store checks and names them the same way, so they live here once.
type Location struct {
	// Bucket is the bucket or container name, never empty.
	Bucket string
	// Prefix is "" or ends with "/".
	Prefix string

	driver, scheme string
}

// NewLocation checks a store's bucket and prefix. name prefixes errors ("gcsstore"),
// kind names the bucket in them ("bucket", "container"), scheme names the location in
// String ("gs"). A trailing slash on prefix is optional; the prefix must be a valid key.
func NewLocation(name, scheme, kind, bucket, prefix string) (Location, error) {
	if bucket == "" {
		return Location{}, errors.New(name + ": " + kind + " is empty")
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		if err := driver.ValidateKey(prefix); err != nil {
			return Location{}, fmt.Errorf("%s: prefix: %w", name, err)
		}
		prefix += "/"
	}
	return Location{Bucket: bucket, Prefix: prefix, driver: name, scheme: scheme}, nil
}

// Name returns the name of the object that holds key: the prefix and the key.
func (l Location) Name(key string) (string, error) {
	if err := driver.ValidateKey(key); err != nil {
		return "", err
	}
	return l.Prefix + key, nil
}

// String names the store in errors and logs, e.g. "gcsstore(gs://bucket/prefix/)".
func (l Location) String() string {
	return l.driver + "(" + l.scheme + "://" + l.Bucket + "/" + l.Prefix + ")"
}
