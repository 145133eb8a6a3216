package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// s3env is a versitygw server on loopback with an s3store over it.
type s3env struct {
	srv    *testenv.S3Server
	client *s3.Client
	store  *s3store.Store
	stamp  int // distinct stamp per iteration of every case
}

// startS3 starts versitygw; unsigned makes s3store's client send UNSIGNED-PAYLOAD (the
// SHA-256 checksum header, which is signed, still guards each body).
func startS3(ctx context.Context, unsigned bool) (*s3env, error) {
	srv, err := testenv.StartS3(ctx, testenv.S3Options{})
	if err != nil {
		return nil, err
	}
	var opts []func(*s3.Options)
	if unsigned {
		opts = append(opts, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	cl := srv.NewClient(opts...)
	st, err := s3store.New(cl, srv.Bucket, s3store.Options{Logger: discard})
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &s3env{srv: srv, client: srv.NewClient(), store: st}, nil
}

func (e *s3env) close() { e.srv.Stop() }

// serverCPU is versitygw's CPU time so far.
func (e *s3env) serverCPU() time.Duration { return procCPU(e.srv.Pid()) }

func (e *s3env) remove(ctx context.Context, okey string) error {
	_, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.srv.Bucket), Key: aws.String(okey)})
	return err
}

// codecCase is a round trip through the codec over s3store. Every iteration stamps the
// payload anew (no dedupe) and deletes the object afterwards (untimed), so the server's
// disk holds one object at a time. wantZstd checks that the blob was compressed.
func (e *s3env) codecCase(ctx context.Context, name string, in input, h codec.Hash, comp codec.Compression, wantZstd bool) bench {
	var (
		c           *codec.Codec
		p, ref, dec *commonpb.Payload
	)
	return bench{name: name, size: in.size, serverCPU: e.serverCPU, serverTick: procTick,
		setup: func(int) error {
			p = newPayload(in.get())
			e.stamp++
			benchdata.Stamp(p.Data, e.stamp)
			var err error
			c, err = codec.New(e.store, codec.Options{Hash: h, Compression: comp, CacheBytes: -1, Logger: discard})
			return err
		},
		run: func(int) error {
			var err error
			ref, dec, err = roundTrip(c, p)
			return err
		},
		check: func(int) error {
			if err := sameData(dec, p.Data); err != nil {
				return err
			}
			dec = nil
			r, err := codec.ParseReference(ref)
			if err != nil {
				return err
			}
			if wantZstd && r.Compression != codec.Zstd {
				return fmt.Errorf("stored with compression %q, want zstd", r.Compression)
			}
			key, err := r.Key(c.Namespace())
			if err != nil {
				return err
			}
			okey, err := e.store.ObjectKey(key)
			if err != nil {
				return err
			}
			return e.remove(ctx, okey)
		},
	}
}

// baselineCase is the simplest S3 offloader, as Temporal's own S3 driver works: the
// payload serialized with proto, its SHA-256 as the key, HEAD, one PutObject of the
// whole body; then one GetObject, io.ReadAll, SHA-256 verify, proto.Unmarshal. The
// client is aws-sdk-go-v2 with its defaults.
func (e *s3env) baselineCase(ctx context.Context, name string, in input) bench {
	var (
		key    string
		p, dec *commonpb.Payload
	)
	return bench{name: name, size: in.size, serverCPU: e.serverCPU, serverTick: procTick,
		setup: func(int) error {
			p = newPayload(in.get())
			e.stamp++
			benchdata.Stamp(p.Data, e.stamp)
			return nil
		},
		run: func(int) error {
			k, sum, err := e.baselinePut(ctx, p)
			if err != nil {
				return fmt.Errorf("put: %w", err)
			}
			key = k
			dec, err = e.baselineGet(ctx, k, sum)
			return err
		},
		check: func(int) error {
			if err := sameData(dec, p.Data); err != nil {
				return err
			}
			dec = nil
			return e.remove(ctx, key)
		},
	}
}

// baselinePut stores p as the baseline does: HEAD its address, PutObject if missing.
func (e *s3env) baselinePut(ctx context.Context, p *commonpb.Payload) (string, [32]byte, error) {
	blob, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return "", [32]byte{}, err
	}
	sum := sha256.Sum256(blob)
	k := "baseline/v0/d/sha256/" + hex.EncodeToString(sum[:])
	bucket := aws.String(e.srv.Bucket)
	_, err = e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(k)})
	var nf *types.NotFound
	switch {
	case err == nil:
		return k, sum, nil
	case !errors.As(err, &nf):
		return "", sum, fmt.Errorf("head: %w", err)
	}
	_, err = e.client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k),
		Body: bytes.NewReader(blob), ContentLength: aws.Int64(int64(len(blob)))})
	return k, sum, err
}

// baselineGet reads k back as the baseline does: GetObject, io.ReadAll, verify, unmarshal.
func (e *s3env) baselineGet(ctx context.Context, k string, sum [32]byte) (*commonpb.Payload, error) {
	out, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.srv.Bucket), Key: aws.String(k)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	blob, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(blob) != sum {
		return nil, errors.New("sha256 mismatch")
	}
	var got commonpb.Payload
	if err := proto.Unmarshal(blob, &got); err != nil {
		return nil, err
	}
	return &got, nil
}
