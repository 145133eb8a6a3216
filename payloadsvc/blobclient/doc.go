// Package blobclient is the client side of the payload service: a codec.Store over HTTP,
// so workers offload large payloads without storage credentials of their own.
//
// It depends on the codec and the standard library only, not on the service's
// dependencies (the AWS SDK, Prometheus): a worker that only talks to a payload service
// imports this package, not payloadsvc.
//
//	store, err := blobclient.New("https://payloads.internal:8080", blobclient.Options{Token: token})
//	if err != nil {
//		return err
//	}
//	c, err := codec.New(store, codec.Options{})
//
// The Client owns its retries (5xx, 408, 429, network errors), resumes a download that
// breaks off from the byte where it stopped, and returns what its retries could not
// overcome as codec.Permanent, so no layer above retries it again.
package blobclient
