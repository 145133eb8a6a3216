package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
)

var discard = slog.New(slog.DiscardHandler)

// newPayload wraps data as the SDK's binary payload.
func newPayload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
}

// roundTrip encodes p with c (it must be offloaded) and decodes the reference back.
func roundTrip(c *codec.Codec, p *commonpb.Payload) (*commonpb.Payload, *commonpb.Payload, error) {
	enc, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		return nil, nil, fmt.Errorf("encode: %w", err)
	}
	if !codec.IsReference(enc[0]) {
		return nil, nil, fmt.Errorf("payload of %d bytes was not offloaded", len(p.Data))
	}
	dec, err := c.Decode(enc)
	if err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	return enc[0], dec[0], nil
}

// sameData checks a decoded payload against the original.
func sameData(got *commonpb.Payload, want []byte) error {
	if got == nil || !bytes.Equal(got.Data, want) {
		return fmt.Errorf("decoded data differs from what was encoded")
	}
	return nil
}

// input is a benchmark payload's bytes, made on first use (only for the cases -only
// selects) and shared by the cases that compare on it.
type input struct {
	kind string
	size int
	get  func() []byte
}

func newInput(kind string, n int, seed uint64) input {
	return input{kind: kind, size: n, get: sync.OnceValue(func() []byte { return benchdata.Make(kind, n, seed) })}
}

// codecCase is Encode+Decode round trips of in through a codec over the store
// newStore returns (called before each iteration, untimed, so nothing deduplicates),
// with the decode cache off.
func codecCase(name string, in input, opts codec.Options, newStore func() driver.Store) bench {
	opts.CacheBytes = -1
	opts.Logger = discard
	var (
		c   *codec.Codec
		p   *commonpb.Payload
		dec *commonpb.Payload
	)
	setup := func(int) error {
		p = newPayload(in.get())
		var err error
		c, err = codec.New(newStore(), opts)
		return err
	}
	run := func(int) error {
		var err error
		_, dec, err = roundTrip(c, p)
		return err
	}
	check := func(int) error {
		err := sameData(dec, p.Data)
		dec = nil
		return err
	}
	return bench{name: name, size: in.size, setup: setup, run: run, check: check}
}

// memstoreCase: the codec over memstore with hash h, a fresh store each iteration; the
// name of a SHA256 case says so.
func memstoreCase(in input, h codec.Hash) bench {
	name := fmt.Sprintf("memstore %s %s", sizeName(in.size), in.kind)
	if h == codec.SHA256 {
		name += " sha256"
	}
	return codecCase(name, in, codec.Options{Hash: h}, func() driver.Store { return memstore.New() })
}

func serviceName(n int, kind string) string {
	return fmt.Sprintf("payloadsvc %s %s", sizeName(n), kind)
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}
