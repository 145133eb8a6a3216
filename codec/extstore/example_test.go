package extstore_test

import (
	"context"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// A driver over any longhaul Store, in client.Options (workers inherit it). Store and
// Retrieve are what the SDK calls for payloads over the threshold.
func Example() {
	d, err := extstore.New(memstore.New(), extstore.Options{})
	if err != nil {
		panic(err)
	}
	_ = client.Options{ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{d}}}

	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + strings.Repeat("a", 1<<20) + `"`)}
	claims, err := d.Store(converter.StorageDriverStoreContext{
		Context: context.Background(),
		Target:  converter.StorageDriverWorkflowInfo{Namespace: "prod", WorkflowID: "wf"},
	}, []*commonpb.Payload{p})
	if err != nil {
		panic(err)
	}
	c := claims[0].ClaimData
	fmt.Println(c["namespace"], c["compression"], c["rawSize"])
	back, err := d.Retrieve(converter.StorageDriverRetrieveContext{Context: context.Background()}, claims)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(back[0].Data))
	// Output:
	// prod zstd 1048606
	// 1048578
}
