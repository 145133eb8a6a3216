package extstore

import (
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Always returns a DriverSelector that stores every payload over the threshold with d.
// The SDK requires a selector when ExternalStorage lists several drivers, e.g. the
// longhaul Driver for new payloads next to a temporals3.Reader that only reads old claims.
func Always(d converter.StorageDriver) converter.StorageDriverSelector { return always{d} }

type always struct{ d converter.StorageDriver }

func (a always) SelectDriver(converter.StorageDriverSelectContext, *commonpb.Payload) (converter.StorageDriver, error) {
	return a.d, nil
}
