package codec

import (
	"fmt"
	"sync"

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

// Encoders and decoders are expensive to build and hold large windows: pool them, one
// goroutine each, since the codec already runs blobs in parallel.
var (
	encoderPool = sync.Pool{New: func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic("codec: zstd encoder: " + err.Error())
		}
		return e
	}}
	decoderPool = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecodedSize), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic("codec: zstd decoder: " + err.Error())
		}
		return d
	}}
)

// compress returns the zstd form of raw, or nil when it saves less than 10%.
func compress(raw []byte) []byte {
	e := encoderPool.Get().(*zstd.Encoder)
	defer encoderPool.Put(e)
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
	d := decoderPool.Get().(*zstd.Decoder)
	defer decoderPool.Put(d)
	out, err := d.DecodeAll(data, make([]byte, 0, rawSize))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != rawSize {
		return nil, fmt.Errorf("decompressed %d bytes, reference says %d", len(out), rawSize)
	}
	return out, nil
}
