package blobclient

import (
	"fmt"
	"io"
	"sync"
)

// upload hands the HTTP transport one request body at a time over a caller's source.
// The transport may read a body from its own goroutine, even after Do returns; closing a
// body (under the lock that every Read holds) guarantees no read of the source is in
// progress or will happen, so the source can be rewound for a retry. A source that is no
// io.Seeker can be sent again only while none of it was read (the service answered
// before asking for the body).
type upload struct {
	src    io.Reader
	seeker io.Seeker // nil: not rewindable
	start  int64     // where the source stood
	size   int64
	read   int64 // bytes read from the source since the last rewind

	mu     sync.Mutex
	cur    *uploadBody
	srcErr error // the source failed or ended early: a retry cannot help
}

func newUpload(src io.Reader, size int64) (*upload, error) {
	u := &upload{src: src, size: size}
	if s, ok := src.(io.Seeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("source position: %w", err)
		}
		u.seeker, u.start = s, start
	}
	return u, nil
}

// next closes the current body, rewinds the source and returns a new body; it is also
// the request's GetBody.
func (u *upload) next() (io.ReadCloser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cur != nil {
		u.cur.closed = true
	}
	switch {
	case u.seeker != nil:
		if _, err := u.seeker.Seek(u.start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind: %w", err)
		}
	case u.read > 0:
		return nil, fmt.Errorf("%d bytes were sent and the source cannot be rewound", u.read)
	}
	u.read = 0
	u.cur = &uploadBody{u: u, left: u.size}
	return u.cur, nil
}

// close ends the current body: after it returns, the source is not read any more.
func (u *upload) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cur != nil {
		u.cur.closed = true
	}
}

func (u *upload) sourceErr() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.srcErr
}

// uploadBody reads exactly size bytes of the source.
type uploadBody struct {
	u      *upload
	left   int64
	closed bool // guarded by u.mu
}

func (b *uploadBody) Read(p []byte) (int, error) {
	b.u.mu.Lock()
	defer b.u.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.u.src.Read(p)
	b.left -= int64(n)
	b.u.read += int64(n)
	switch {
	case err == io.EOF && b.left > 0:
		b.u.srcErr = fmt.Errorf("source ended %d bytes short of the size given", b.left)
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		b.u.srcErr = fmt.Errorf("read source: %w", err)
		return n, err
	case b.left == 0:
		return n, io.EOF
	}
	return n, nil
}

func (b *uploadBody) Close() error {
	b.u.mu.Lock()
	defer b.u.mu.Unlock()
	b.closed = true
	return nil
}
