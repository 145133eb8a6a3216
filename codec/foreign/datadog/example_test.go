package datadog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// A worker that used DataDog's large-payload codec lists a datadog.Reader in the codec's
// Readers; here the DataDog blobs were copied into a longhaul Store (keyed by their
// digest), so the service can be retired. With URL set too, a blob not copied is read
// from the service.
func ExampleNewReader() {
	data := []byte(`"a large document"`)
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])

	copied := memstore.New() // the DataDog bucket's blobs, copied under v1/{namespace}/sha256/{hex}
	key, _ := driver.Key("default", driver.SHA256, digest)
	if _, err := copied.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		panic(err)
	}
	dd, err := datadog.NewReader(datadog.Options{Store: copied, URL: "http://lps:8577"})
	if err != nil {
		panic(err)
	}
	c, err := codec.New(memstore.New(), codec.Options{Readers: []codec.Reader{dd}})
	if err != nil {
		panic(err)
	}

	// A v2 reference as DataDog's codec left it in history.
	ref := &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "temporal.io/remote-codec": []byte("v2")},
		Data: fmt.Appendf(nil, `{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"size":%d,"digest":"sha256:%s",`+
			`"key":"/blobs/default/common/sha256:%s/sha256:%s"}`, len(data), digest, digest, digest),
	}
	out, err := c.Decode([]*commonpb.Payload{ref})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", out[0].Metadata["encoding"], out[0].Data)
	// Output: json/plain "a large document"
}
