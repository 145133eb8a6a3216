package s3store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// maxStalls bounds how often a streamed body may break off in a row without a byte of
// progress before the read fails.
const maxStalls = 3

// reader streams an object: bytes [0, streamEnd) from a body that is resumed when it
// breaks off, the rest from chunks fetched in parallel ahead of the reader.
type reader struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	okey   string
	size   int64 // -1: unknown (then everything streams)
	pos    int64 // bytes returned so far
	err    error // sticky

	body      io.ReadCloser // nil between bodies
	bodyEnd   int64         // offset where body's range ends; -1: at the object's end
	streamEnd int64         // offset where prefetched chunks start; -1: none
	stalls    int

	chunkSize int64
	chunks    []chan chunk // chunk i holds [streamEnd+i*chunkSize, ...)
	cur       []byte       // unread rest of the current chunk
	curBuf    []byte       // its whole buffer, for reuse
	sem       chan struct{}
	free      chan []byte
	wg        sync.WaitGroup
	closed    bool
}

type chunk struct {
	buf []byte
	err error
}

// open starts the first body and, for a large object, the prefetch of the others.
func (r *reader) open() error {
	s := r.s
	var sp span
	var err error
	if s.opts.Concurrency > 1 {
		sp, err = s.getSpan(r.ctx, r.okey, 0, s.opts.PartSize)
		if isCode(err, "InvalidRange") { // an empty object has no byte 0
			sp, err = s.getSpan(r.ctx, r.okey, 0, -1)
		}
	} else {
		sp, err = s.getSpan(r.ctx, r.okey, 0, -1)
	}
	if err != nil {
		return err
	}
	r.body, r.bodyEnd, r.size, r.streamEnd = sp.body, sp.end, sp.size, sp.size
	if sp.size > sp.end && sp.end > 0 && s.opts.Concurrency > 1 {
		r.streamEnd = sp.end
		r.chunkSize = s.opts.PartSize
		n := int((r.size - r.streamEnd + r.chunkSize - 1) / r.chunkSize)
		r.chunks = make([]chan chunk, n)
		for i := range r.chunks {
			r.chunks[i] = make(chan chunk, 1)
		}
		r.sem = make(chan struct{}, s.opts.Concurrency)
		r.free = make(chan []byte, s.opts.Concurrency)
		r.wg.Add(1)
		go r.prefetch()
	}
	return nil
}

// prefetch fetches the chunks in order, at most Concurrency of them fetched and not
// yet read.
func (r *reader) prefetch() {
	defer r.wg.Done()
	for i := range r.chunks {
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		off := r.streamEnd + int64(i)*r.chunkSize
		n := min(r.chunkSize, r.size-off)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			var buf []byte
			select {
			case buf = <-r.free:
			default:
				buf = make([]byte, r.chunkSize)
			}
			buf = buf[:n]
			err := r.s.fetchRange(r.ctx, r.okey, off, buf)
			r.chunks[i] <- chunk{buf: buf, err: err}
		}()
	}
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, fmt.Errorf("s3store get %s: read after Close", r.okey)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.size >= 0 && r.pos >= r.size {
		return 0, io.EOF
	}
	var n int
	var err error
	if r.streamEnd < 0 || r.pos < r.streamEnd {
		n, err = r.readStream(p)
	} else {
		n, err = r.readChunk(p)
	}
	r.pos += int64(n)
	if err != nil && err != io.EOF {
		if r.ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", r.ctx.Err(), err)
		}
		r.err = fmt.Errorf("s3store get %s: at byte %d: %w", r.okey, r.pos, err)
		return n, r.err
	}
	return n, err
}

// readStream reads from the streamed body, opening the next range when a body ends
// where it should and resuming when it breaks off.
func (r *reader) readStream(p []byte) (int, error) {
	for {
		if r.body == nil {
			sp, err := r.s.getSpan(r.ctx, r.okey, r.pos, r.streamEnd)
			if err != nil {
				return 0, err
			}
			r.body, r.bodyEnd = sp.body, sp.end
		}
		if r.bodyEnd >= 0 && int64(len(p)) > r.bodyEnd-r.pos {
			p = p[:r.bodyEnd-r.pos]
		}
		n, err := r.body.Read(p)
		r.s.stats.bytesDown.Add(int64(n))
		if n > 0 {
			r.stalls = 0
		}
		if r.bodyEnd >= 0 && r.pos+int64(n) == r.bodyEnd {
			drainEOF(r.body)
			r.closeBody()
			return n, nil
		}
		if err == nil {
			return n, nil
		}
		r.closeBody()
		if err == io.EOF {
			if r.bodyEnd < 0 {
				return n, io.EOF // size unknown: the body's end is the object's
			}
			err = fmt.Errorf("body ended at byte %d of %d: %w", r.pos+int64(n), r.bodyEnd, errShortBody)
		}
		if r.ctx.Err() != nil || codec.IsPermanent(classify(err)) {
			return n, err
		}
		if r.stalls++; r.stalls > maxStalls {
			return n, fmt.Errorf("body broke off %d times without progress: %w", r.stalls, err)
		}
		r.s.stats.retries.Add(1)
		r.s.log.LogAttrs(r.ctx, slog.LevelWarn, "s3store: resuming body", slog.String("store", r.s.String()),
			slog.String("key", r.okey), slog.Int64("offset", r.pos+int64(n)), slog.Any("err", err))
		if n > 0 {
			return n, nil
		}
	}
}

// readChunk reads from the prefetched chunks, releasing each once it is read.
func (r *reader) readChunk(p []byte) (int, error) {
	if r.cur == nil {
		i := (r.pos - r.streamEnd) / r.chunkSize
		select {
		case c := <-r.chunks[i]:
			if c.err != nil {
				return 0, c.err
			}
			r.cur, r.curBuf = c.buf, c.buf
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	if len(r.cur) == 0 {
		r.free <- r.curBuf[:cap(r.curBuf)]
		r.cur, r.curBuf = nil, nil
		<-r.sem
	}
	return n, nil
}

func (r *reader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// Close stops the prefetch and waits for it, so no request outlives the reader.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.closeBody()
	r.wg.Wait()
	return nil
}

// Size returns the object's length, or -1 when S3 did not say (codec.Sizer).
func (r *reader) Size() int64 { return r.size }
