package codec

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Compression selects how offloaded blobs are compressed. The zero value is Zstd.
type Compression int

const (
	// Zstd compresses blobs with zstd, and stores them uncompressed when that saves
	// less than 10%.
	Zstd Compression = iota
	// NoCompression stores the serialized payload as is.
	NoCompression
)

// String returns the name used in references.
func (c Compression) String() string {
	switch c {
	case Zstd:
		return compressionZstd
	case NoCompression:
		return compressionNone
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// maxDecodedSize bounds a decompressed blob: a reference claiming more is corrupt or hostile.
const maxDecodedSize = 4 << 30

// Encoders and decoders are expensive to build and hold large windows. A sync.Pool is
// emptied at every GC, and offloading large payloads causes many GCs, so keep a small
// free list instead; one goroutine per coder, since the codec runs blobs in parallel.
type coderPool[T any] struct {
	free  chan T
	build func() T
}

func (p *coderPool[T]) get() T {
	select {
	case c := <-p.free:
		return c
	default:
		return p.build()
	}
}

func (p *coderPool[T]) put(c T) {
	select {
	case p.free <- c:
	default: // full: let it go
	}
}

var (
	encoders = &coderPool[*zstd.Encoder]{free: make(chan *zstd.Encoder, 8), build: func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic("codec: zstd encoder: " + err.Error())
		}
		return e
	}}
	decoders = &coderPool[*zstd.Decoder]{free: make(chan *zstd.Decoder, 8), build: func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecodedSize))
		if err != nil {
			panic("codec: zstd decoder: " + err.Error())
		}
		return d
	}}
)

// sampleSize is the probe compressed first for large inputs: data that does not shrink in
// a sample (already compressed, encrypted, random) is stored as is without paying for a
// full pass.
const sampleSize = 256 << 10

// compress returns the zstd form of raw, or nil when it saves less than 10%.
func compress(raw []byte) []byte {
	e := encoders.get()
	defer encoders.put(e)
	if len(raw) > 4*sampleSize {
		mid := len(raw)/2 - sampleSize/2
		sample := raw[mid : mid+sampleSize]
		if z := e.EncodeAll(sample, nil); len(z) > len(sample)-len(sample)/10 {
			return nil
		}
	}
	out := e.EncodeAll(raw, make([]byte, 0, len(raw)/2))
	if len(out) > len(raw)-len(raw)/10 {
		return nil
	}
	return out
}

// decompress expands a zstd blob that must be exactly rawSize bytes long.
func decompress(data []byte, rawSize int64) ([]byte, error) {
	if rawSize > maxDecodedSize {
		return nil, fmt.Errorf("decompressed size %d over the %d limit", rawSize, int64(maxDecodedSize))
	}
	d := decoders.get()
	defer decoders.put(d)
	out, err := d.DecodeAll(data, make([]byte, 0, rawSize))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != rawSize {
		return nil, fmt.Errorf("decompressed %d bytes, reference says %d", len(out), rawSize)
	}
	return out, nil
}
