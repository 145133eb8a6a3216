package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Compression names how a blob's bytes are compressed before storage, in Options and in
// references alike. The zero value in Options means Zstd.
type Compression string

const (
	// Zstd compresses blobs with zstd at its fastest level, large ones on all cores, and
	// is skipped for a blob it shrinks by less than 10%.
	Zstd Compression = "zstd"
	// NoCompression stores the serialized payload as is.
	NoCompression Compression = "none"
)

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

// maxWindow bounds the zstd window a blob may ask a decoder for; the encoder's fastest
// level uses 4 MiB.
const maxWindow = 8 << 20

var (
	encoders = &coderPool[*zstd.Encoder]{free: make(chan *zstd.Encoder, 8), build: func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic("codec: zstd encoder: " + err.Error())
		}
		return e
	}}
	decoders = &coderPool[*zstd.Decoder]{free: make(chan *zstd.Decoder, 8), build: func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			panic("codec: zstd decoder: " + err.Error())
		}
		return d
	}}
)

const (
	// sampleSize is the probe compressed first for large inputs: data that does not
	// shrink in a sample (already compressed, encrypted, random) is stored as is without
	// paying for a full pass.
	sampleSize = 128 << 10
	// frameSize: large data is compressed as independent zstd frames of this size, on
	// all cores; any zstd reader reads concatenated frames as one stream.
	frameSize = 4 << 20
)

// compress returns the zstd form of w as a list of frames and its total length, or nil
// when it saves less than 10%.
func compress(w wireForm) ([][]byte, int64) {
	if len(w.data) > 4*sampleSize {
		mid := len(w.data)/2 - sampleSize/2
		sample := w.data[mid : mid+sampleSize]
		e := encoders.get()
		z := e.EncodeAll(sample, make([]byte, 0, sampleSize))
		encoders.put(e)
		if len(z) > len(sample)-len(sample)/10 {
			return nil, 0
		}
	}
	var chunks [][]byte
	for _, p := range w.pieces() {
		for len(p) > frameSize {
			chunks = append(chunks, p[:frameSize])
			p = p[frameSize:]
		}
		chunks = append(chunks, p)
	}
	frames := make([][]byte, len(chunks))
	encodeFrames(chunks, frames)
	var total int64
	for _, f := range frames {
		total += int64(len(f))
	}
	if raw := w.size(); total > raw-raw/10 {
		return nil, 0
	}
	return frames, total
}

// encodeFrames compresses each chunk into its own frame, on up to GOMAXPROCS goroutines.
// Each goroutine compresses into one scratch buffer large enough for the worst case and
// keeps an exact-size copy, so the frames hold what they need and no more: an estimate
// of the output would be too small for incompressible stretches (append would copy and
// leave garbage behind) and too large for text.
func encodeFrames(chunks, frames [][]byte) {
	var (
		wg   sync.WaitGroup
		next = make(chan int, len(chunks))
	)
	for i := range chunks {
		next <- i
	}
	close(next)
	work := func() {
		e := encoders.get()
		defer encoders.put(e)
		var scratch []byte
		for i := range next {
			if bound := maxFrameSize(len(chunks[i])); cap(scratch) < bound {
				scratch = make([]byte, 0, bound)
			}
			scratch = e.EncodeAll(chunks[i], scratch[:0])
			frames[i] = bytes.Clone(scratch)
		}
	}
	for range min(runtime.GOMAXPROCS(0), len(chunks)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// maxFrameSize bounds the zstd frame of n bytes: raw blocks cost 3 bytes per 128 KiB,
// plus the frame header and checksum.
func maxFrameSize(n int) int { return n + n>>10 + 64 }

// errTooLong means a stream expands past the size its reference gives.
var errTooLong = errors.New("expands past rawSize")

// decompress reads a zstd stream from r and returns what it expands to, which must be
// exactly rawSize bytes. The output grows with the bytes the decoder really produces,
// from a first guess of hint (a small multiple of the stored size), never from rawSize
// alone: a forged rawSize or a decompression bomb costs at most what it truly expands
// to, up to rawSize.
func decompress(r io.Reader, rawSize, hint int64) ([]byte, error) {
	d := decoders.get()
	defer decoders.put(d)
	if err := d.Reset(r); err != nil {
		return nil, err
	}
	defer d.Reset(nil) //nolint:errcheck // releases r
	out := make([]byte, 0, min(rawSize, max(hint, 1<<20)))
	for {
		if len(out) == cap(out) {
			if int64(len(out)) == rawSize {
				var one [1]byte
				n, err := io.ReadFull(d, one[:])
				if n > 0 {
					return nil, errTooLong
				}
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					return nil, err
				}
				return out, nil
			}
			grown := make([]byte, len(out), min(rawSize, 2*int64(cap(out))))
			copy(grown, out)
			out = grown
		}
		n, err := d.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			if int64(len(out)) != rawSize {
				return nil, fmt.Errorf("expands to %d bytes, rawSize says %d", len(out), rawSize)
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
