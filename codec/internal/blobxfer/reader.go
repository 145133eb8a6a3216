package blobxfer

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// maxStalls bounds how often a streamed body may break off in a row without a byte of
// progress before the read fails.
const maxStalls = 3

// Opener opens bytes [off, end) of an object in one attempt (no retries); end is at
// most the object's size, or -1 (to the object's end) when its size is unknown. The body
// must hold exactly those bytes.
type Opener func(ctx context.Context, off, end int64) (io.ReadCloser, error)

// ReaderConfig describes an object for NewReader.
type ReaderConfig struct {
	// Name prefixes errors, e.g. "gcsstore get bucket/key".
	Name string
	// Key names the object to Retrier and its callbacks.
	Key string
	// Size is the object's length in bytes; -1: unknown, the object streams through one
	// body to its EOF.
	Size int64
	// ChunkSize is the size of the ranges fetched ahead; Concurrency bounds them (<= 1:
	// the object streams through one body).
	ChunkSize   int64
	Concurrency int
	// Tail, if > 0, lets the last range also take a remainder of up to Tail bytes
	// rather than a request of its own (see PartCount).
	Tail    int64
	Open    Opener
	Retrier *Retrier
	// OnBytes, if not nil, counts body bytes received.
	OnBytes func(n int64)
}

// Reader streams an object: bytes [0, streamEnd) from a body that is resumed where it
// broke off, the rest from ranges fetched in parallel ahead of the reader, each retried
// on its own. It never returns a short object: a body that cannot be completed is an
// error wrapping io.ErrUnexpectedEOF or the last request's error. Memory is bounded by
// Concurrency ranges of ChunkSize.
type Reader struct {
	cfg    ReaderConfig
	ctx    context.Context
	cancel context.CancelFunc
	pos    int64
	err    error // sticky

	body      io.ReadCloser // nil between bodies
	bodyEnd   int64         // -1: the object's end, size unknown
	streamEnd int64         // -1: size unknown
	stalls    int

	chunks []chan chunk // chunk i holds [streamEnd+i*ChunkSize, ...); the last takes the tail
	cur    []byte       // unread rest of the current chunk
	curBuf []byte       // its whole buffer, for reuse
	sem    chan struct{}
	free   chan []byte
	wg     sync.WaitGroup
	closed bool
}

type chunk struct {
	buf []byte
	err error
}

// NewReader returns a reader of the object whose bytes [0, firstEnd) first delivers
// (the caller opened it, learning Size). When Concurrency > 1 and the object is longer,
// the rest is fetched as parallel ranges; otherwise the rest streams after first. The
// reader stops with ctx; Close releases it.
func NewReader(ctx context.Context, cfg ReaderConfig, first io.ReadCloser, firstEnd int64) *Reader {
	ctx, cancel := context.WithCancel(ctx)
	r := &Reader{cfg: cfg, ctx: ctx, cancel: cancel, body: first, bodyEnd: firstEnd, streamEnd: cfg.Size}
	if cfg.Concurrency > 1 && cfg.ChunkSize > 0 && firstEnd > 0 && firstEnd < cfg.Size {
		r.streamEnd = firstEnd
		n := int(PartCount(cfg.Size-firstEnd, cfg.ChunkSize, cfg.Tail))
		r.chunks = make([]chan chunk, n)
		for i := range r.chunks {
			r.chunks[i] = make(chan chunk, 1)
		}
		r.sem = make(chan struct{}, cfg.Concurrency)
		r.free = make(chan []byte, cfg.Concurrency)
		r.wg.Add(1)
		go r.prefetch()
	}
	return r
}

// Size reports the object's length (-1: unknown), so the codec allocates exactly once.
func (r *Reader) Size() int64 { return r.cfg.Size }

// prefetch fetches the chunks in order, at most Concurrency of them fetched and not yet
// read.
func (r *Reader) prefetch() {
	defer r.wg.Done()
	for i := range r.chunks {
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		off := r.streamEnd + int64(i)*r.cfg.ChunkSize
		n := r.cfg.ChunkSize
		if i == len(r.chunks)-1 {
			n = r.cfg.Size - off
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			var buf []byte
			select {
			case buf = <-r.free:
			default:
			}
			if int64(cap(buf)) < n { // the first chunks, and a last one with a tail
				buf = make([]byte, n)
			}
			buf = buf[:n]
			err := r.fetch(off, buf)
			r.chunks[i] <- chunk{buf: buf, err: err}
		}()
	}
}

// fetch reads bytes [off, off+len(buf)) into buf, retrying the whole range on any
// transient failure, a short body included.
func (r *Reader) fetch(off int64, buf []byte) error {
	end := off + int64(len(buf))
	return r.cfg.Retrier.Do(r.ctx, "get range", r.cfg.Key, func(ctx context.Context) error {
		body, err := r.cfg.Open(ctx, off, end)
		if err != nil {
			return err
		}
		defer body.Close()
		n, err := io.ReadFull(body, buf)
		r.countBytes(int64(n))
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("range [%d, %d) body ended after %d bytes: %w", off, end, n, io.ErrUnexpectedEOF)
		}
		return err
	})
}

func (r *Reader) countBytes(n int64) {
	if r.cfg.OnBytes != nil && n > 0 {
		r.cfg.OnBytes(n)
	}
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, fmt.Errorf("%s: read after Close", r.cfg.Name)
	}
	if r.cfg.Size >= 0 && r.pos >= r.cfg.Size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
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
		r.err = fmt.Errorf("%s: at byte %d: %w", r.cfg.Name, r.pos, err)
		return n, r.err
	}
	return n, err
}

// readStream reads from the streamed body, reopening it from the current offset when
// it breaks off.
func (r *Reader) readStream(p []byte) (int, error) {
	for {
		if r.body == nil {
			err := r.cfg.Retrier.DoStream(r.ctx, "get", r.cfg.Key, func(ctx context.Context) error {
				var err error
				r.body, err = r.cfg.Open(ctx, r.pos, r.streamEnd)
				return err
			})
			if err != nil {
				return 0, err
			}
			r.bodyEnd = r.streamEnd
		}
		if r.bodyEnd >= 0 && int64(len(p)) > r.bodyEnd-r.pos {
			p = p[:r.bodyEnd-r.pos]
		}
		n, err := r.body.Read(p)
		r.countBytes(int64(n))
		if n > 0 {
			r.stalls = 0
		}
		if r.bodyEnd >= 0 && r.pos+int64(n) == r.bodyEnd {
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
			err = fmt.Errorf("body ended at byte %d of %d: %w", r.pos+int64(n), r.bodyEnd, io.ErrUnexpectedEOF)
		}
		if r.ctx.Err() != nil || !r.cfg.Retrier.Transient(err) {
			return n, err
		}
		if r.stalls++; r.stalls > maxStalls {
			return n, fmt.Errorf("body broke off %d times without progress: %w", r.stalls, err)
		}
		r.cfg.Retrier.resumed(r.ctx, r.cfg.Key, r.pos+int64(n), err)
		if n > 0 {
			return n, nil
		}
	}
}

// readChunk reads from the prefetched chunks, releasing each once it is read.
func (r *Reader) readChunk(p []byte) (int, error) {
	if r.cur == nil {
		i := min((r.pos-r.streamEnd)/r.cfg.ChunkSize, int64(len(r.chunks)-1)) // the last takes the tail
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

func (r *Reader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// Close stops the prefetch and waits for it, so no request outlives the reader.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.closeBody()
	r.wg.Wait()
	return nil
}

// First is a store's first response to a Get: a body holding the object's bytes [0,
// End), and what the reader needs for the rest.
type First struct {
	Body io.ReadCloser
	// End is where Body ends; Size is the object's length (-1: unknown).
	End, Size int64
	// Open opens later ranges and resumed bodies.
	Open Opener
	// Tail is ReaderConfig.Tail.
	Tail int64
	// Counted is set when the store counts Stats.BytesDown itself.
	Counted bool
}

// Get opens the object under key: first is the store's first request, retried until a
// body starts (an attempt bounded by ctx alone, as the body outlives it); the rest is
// read by a Reader in ranges of PartSize, Concurrency in flight.
func (c *Core) Get(ctx context.Context, key string, first func(ctx context.Context, name string) (First, error)) (io.ReadCloser, error) {
	return Do(ctx, c.Location, "get", key, func(name string) (io.ReadCloser, error) {
		var f First
		err := c.Retrier.DoStream(ctx, "get", name, func(ctx context.Context) error {
			var err error
			f, err = first(ctx, name)
			return err
		})
		if err != nil {
			return nil, err
		}
		c.Stats.Gets.Add(1)
		cfg := ReaderConfig{Name: c.driver + " get " + name, Key: name, Size: f.Size, ChunkSize: c.Opts.PartSize,
			Concurrency: c.Opts.Concurrency, Tail: f.Tail, Open: f.Open, Retrier: c.Retrier}
		if !f.Counted {
			cfg.OnBytes = func(n int64) { c.Stats.BytesDown.Add(n) }
		}
		return NewReader(ctx, cfg, f.Body, f.End), nil
	})
}
