package payloadsvc

import "github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"

// The client side lives in package blobclient, which workers import without the
// service's dependencies; these names keep code written against payloadsvc compiling.
type (
	// Client is blobclient.Client.
	Client = blobclient.Client
	// ClientOptions is blobclient.Options.
	ClientOptions = blobclient.Options
	// StatusError is blobclient.StatusError.
	StatusError = blobclient.StatusError
)

// DefaultClientTimeout is blobclient.DefaultTimeout.
const DefaultClientTimeout = blobclient.DefaultTimeout

// ErrRequestTimeout is blobclient.ErrRequestTimeout.
var ErrRequestTimeout = blobclient.ErrRequestTimeout

// NewClient is blobclient.New: a Client for the service at baseURL. Workers that only
// need the client import payloadsvc/blobclient instead, without the service's
// dependencies.
func NewClient(baseURL string, opts ClientOptions) (*Client, error) {
	return blobclient.New(baseURL, opts)
}
