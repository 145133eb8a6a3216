package s3store

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// span is what a GET returned: a body holding [start, end) of an object of size bytes
// (size -1: unknown).
type span struct {
	body       io.ReadCloser
	start, end int64
	size       int64
}

// getSpanOnce is one GET of bytes [off, end) of the object (end -1: to the end; off 0
// and end -1: the whole object without a Range header).
func (s *Store) getSpanOnce(ctx context.Context, okey string, off, end int64) (span, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.core.Bucket), Key: aws.String(okey)}
	switch {
	case end > off:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := s.client.GetObject(ctx, in, noRetry)
	if err != nil {
		return span{}, err
	}
	sp := span{body: out.Body, start: 0, end: -1, size: -1}
	if n := out.ContentLength; n != nil {
		sp.end, sp.size = *n, *n
	}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		sp.start, sp.end, sp.size, err = parseContentRange(cr)
	} else if in.Range != nil && off > 0 {
		err = fmt.Errorf("server ignored Range %s", *in.Range)
	}
	if err == nil && sp.start != off {
		err = fmt.Errorf("asked for bytes from %d, got Content-Range from %d", off, sp.start)
	}
	if err != nil {
		out.Body.Close()
		return span{}, err
	}
	return sp, nil
}

// parseContentRange parses "bytes first-last/size" into [first, last+1) and size (-1
// when "*").
func parseContentRange(v string) (start, end, size int64, err error) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	rng, total, ok2 := strings.Cut(rest, "/")
	first, last, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err == nil {
		end, err = strconv.ParseInt(last, 10, 64)
		end++
	}
	size = -1
	if err == nil && total != "*" {
		size, err = strconv.ParseInt(total, 10, 64)
	}
	if err != nil || start < 0 || end < start || (size >= 0 && end > size) {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return start, end, size, nil
}

// openBody is one GET of bytes [off, end) (end -1: to the object's end) for
// blobxfer.Reader. A prefetched range must end where asked; its bytes are counted once
// it is complete, as a range cut short is fetched again whole.
func (s *Store) openBody(ctx context.Context, okey string, off, end int64, isRange bool) (io.ReadCloser, error) {
	sp, err := s.getSpanOnce(ctx, okey, off, end)
	if err != nil {
		return nil, err
	}
	if isRange && sp.end != end {
		sp.body.Close()
		return nil, fmt.Errorf("asked for bytes [%d, %d), got up to %d", off, end, sp.end)
	}
	n := int64(-1)
	if sp.end >= 0 {
		n = sp.end - off
	}
	return s.countBody(sp.body, n, isRange), nil
}

// countedBody counts a GET body's bytes in BytesDown, as they arrive or (whole) once
// all n have arrived, and, closed after its last byte, reads it to its EOF first so
// net/http can reuse the connection.
type countedBody struct {
	io.ReadCloser
	s       *Store
	n, read int64 // n -1: length unknown
	whole   bool
}

// countBody wraps a body of n bytes (-1: unknown) in a countedBody.
func (s *Store) countBody(body io.ReadCloser, n int64, whole bool) io.ReadCloser {
	return &countedBody{ReadCloser: body, s: s, n: n, whole: whole}
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	switch {
	case !b.whole:
		b.s.core.Stats.BytesDown.Add(int64(n))
	case n > 0 && b.read == b.n:
		b.s.core.Stats.BytesDown.Add(b.read)
	}
	return n, err
}

func (b *countedBody) Close() error {
	if b.read == b.n {
		drainEOF(b.ReadCloser)
	}
	return b.ReadCloser.Close()
}

// drainEOF reads a finished body to its EOF, so net/http can reuse the connection.
func drainEOF(body io.Reader) {
	var b [1]byte
	_, _ = body.Read(b[:])
}
