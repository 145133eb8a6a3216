// Package driver is the contract between the codec and the stores that hold its blobs: the
// Store interface every driver implements, the key grammar drivers may rely on, the
// sentinel errors callers branch on, and the one retry helper (Retry, WithRetry) drivers
// use for their transient failures. codec/storetest checks a driver against it.
//
// A driver imports this package and none of the codec: it moves bytes, and the codec
// above it validates, hashes, verifies and counts.
package driver
