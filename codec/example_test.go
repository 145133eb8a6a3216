package codec_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// A Codec is a converter.PayloadCodec: large payloads go to the store, a small reference
// stays in their place.
func ExampleNew() {
	c, err := codec.New(memstore.New(), codec.Options{Threshold: 1024})
	if err != nil {
		log.Fatal(err)
	}
	big := &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data:     bytes.Repeat([]byte("x"), 4096),
	}
	enc, err := c.Encode([]*commonpb.Payload{big})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(enc[0].Metadata["encoding"]))
	dec, err := c.Decode(enc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(dec[0].Data), c.Stats().PayloadsOffloaded)
	// Output:
	// json/longhaul-ref
	// 4096 1
}

// Use the DataConverter in client.Options; workers created from the client inherit it.
func ExampleNewDataConverter() {
	dir, err := os.MkdirTemp("", "longhaul-blobs-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := filestore.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(store, codec.Options{Namespace: "default"})
	if err != nil {
		log.Fatal(err)
	}
	opts := client.Options{
		HostPort:      client.DefaultHostPort,
		Namespace:     "default",
		DataConverter: codec.NewDataConverter(c, nil), // nil: the SDK's default converter
	}
	// c, err := client.Dial(opts); worker.New(c, "task-queue", worker.Options{}) ...
	fmt.Println(opts.DataConverter != nil)
	// Output: true
}
