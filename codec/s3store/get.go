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

// Get opens the object for reading. The body is streamed; in an object over PartSize
// the parts after the first are fetched as parallel ranges (Concurrency in flight, each
// retried on its own) while the first streams. A body that breaks off is resumed from
// where it stopped; one that cannot be completed is an error (io.ErrUnexpectedEOF), never
// a silent short read. The reader stops with ctx; Close releases it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	okey, err := s.ObjectKey(key)
	if err != nil {
		return nil, fmt.Errorf("s3store get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3store get %s: %w", okey, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &reader{s: s, ctx: rctx, cancel: cancel, okey: okey}
	if err := r.open(); err != nil {
		cancel()
		return nil, fmt.Errorf("s3store get %s: %w", okey, err)
	}
	s.stats.gets.Add(1)
	return r, nil
}

// span is what a GET returned: a body holding [start, end) of an object of size bytes
// (size -1: unknown).
type span struct {
	body       io.ReadCloser
	start, end int64
	size       int64
}

// getSpan opens bytes [off, end) of the object (end -1: to the end; off 0 and end -1:
// the whole object without a Range header), retried until a body starts. The body is
// bounded by ctx alone, as its reader may be slow.
func (s *Store) getSpan(ctx context.Context, okey string, off, end int64) (span, error) {
	var sp span
	err := s.retrier.DoStream(ctx, "get", okey, func(ctx context.Context) error {
		var err error
		sp, err = s.getSpanOnce(ctx, okey, off, end)
		return err
	})
	return sp, err
}

// getSpanOnce is one attempt of getSpan.
func (s *Store) getSpanOnce(ctx context.Context, okey string, off, end int64) (span, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(okey)}
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

// fetchRange reads bytes [off, off+len(buf)) into buf, retrying the whole range on any
// transient failure, a short body included.
func (s *Store) fetchRange(ctx context.Context, okey string, off int64, buf []byte) error {
	end := off + int64(len(buf))
	return s.retry(ctx, "get range", okey, func(ctx context.Context) error {
		sp, err := s.getSpanOnce(ctx, okey, off, end)
		if err != nil {
			return err
		}
		defer sp.body.Close()
		if sp.end != end {
			return fmt.Errorf("asked for bytes [%d, %d), got up to %d", off, end, sp.end)
		}
		n, err := io.ReadFull(sp.body, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("range body ended at %d of %d bytes: %w", n, len(buf), errShortBody)
		}
		if err != nil {
			return err
		}
		drainEOF(sp.body)
		s.stats.bytesDown.Add(int64(n))
		return nil
	})
}

// drainEOF reads a finished body to its EOF, so net/http can reuse the connection.
func drainEOF(body io.Reader) {
	var b [1]byte
	_, _ = body.Read(b[:])
}
