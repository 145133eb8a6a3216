package testenv

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Options configures a versitygw server. The zero value is fine.
type S3Options struct {
	// Bin is the versitygw binary; default: the pinned one from the tool cache.
	Bin string
	// Dir holds the posix backend root and the log; default: a new temporary directory.
	Dir string
	// Bucket is created at start; default "longhaul-test".
	Bucket string
	// Region is the server's region (versitygw --region); requests signed for another
	// region are refused. Default "us-east-1".
	Region string
	// ReadyTimeout bounds the wait for the server; default 30s.
	ReadyTimeout time.Duration
}

// S3Server is a running versitygw with a posix backend, path-style addressing.
type S3Server struct {
	// Endpoint is http://127.0.0.1:port.
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	// Root is the posix backend's directory (bucket = subdirectory).
	Root string
	emulator

	opts S3Options
	port int
}

// StartS3 starts versitygw on a random loopback port with generated credentials and
// creates the bucket.
func StartS3(ctx context.Context, opts S3Options) (*S3Server, error) {
	bin, err := binOr(opts.Bin, toolFinder("versitygw", VersityGWVersion, "LONGHAUL_VERSITYGW"))
	if err != nil {
		return nil, err
	}
	opts.Bin, opts.Bucket, opts.Region = bin, cmp.Or(opts.Bucket, "longhaul-test"), cmp.Or(opts.Region, "us-east-1")
	opts.ReadyTimeout = cmp.Or(opts.ReadyTimeout, 30*time.Second)
	s := &S3Server{opts: opts, Region: opts.Region, Bucket: opts.Bucket}
	s.AccessKey = "AK" + randHex(9)
	s.SecretKey = randHex(20)
	err = s.startOnFreePort(opts.Dir, "longhaul-s3-", "versitygw.log", func() error {
		s.Root = filepath.Join(s.dir.path, "root")
		if err := os.MkdirAll(s.Root, 0o755); err != nil {
			return fmt.Errorf("testenv: s3 root: %w", err)
		}
		return nil
	}, func(port int) error {
		s.port = port
		return s.Start(ctx)
	})
	if err != nil {
		return nil, err
	}
	c := s.NewClient()
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("testenv: create bucket %s: %w", s.Bucket, err)
	}
	return s, nil
}

// Start (re)starts the server process on its port with the same root and credentials.
// Used by fault tests after Kill or Pause.
func (s *S3Server) Start(ctx context.Context) error {
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s.port)
	env := []string{"ROOT_ACCESS_KEY_ID=" + s.AccessKey, "ROOT_SECRET_ACCESS_KEY=" + s.SecretKey}
	proc, err := startProcess("versitygw", s.LogPath, env, s.opts.Bin,
		"--port", "127.0.0.1:"+strconv.Itoa(s.port), "--region", s.Region, "posix", s.Root)
	if err != nil {
		return err
	}
	s.proc = proc
	err = waitFor(ctx, proc, s.opts.ReadyTimeout, func(ctx context.Context) error {
		_, err := s.NewClient().ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	})
	if err != nil {
		proc.stop(5 * time.Second)
	}
	return err
}

// Kill stops the server process at once (SIGKILL), keeping its data for Start.
func (s *S3Server) Kill() {
	if s.proc != nil {
		s.proc.kill()
	}
}

// Pid returns the server process's id (0 when it is not running), e.g. to read its
// CPU time in benchmarks.
func (s *S3Server) Pid() int {
	if s.proc == nil {
		return 0
	}
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	if s.proc.cmd == nil || s.proc.cmd.Process == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// NewClient returns an aws-sdk-go-v2 client for the server: static credentials, custom
// endpoint, path-style addressing. opts may adjust it further.
func (s *S3Server) NewClient(opts ...func(*s3.Options)) *s3.Client {
	return s.NewClientFor(s.Endpoint, opts...)
}

// NewClientFor is NewClient against another endpoint, e.g. a fault-injecting proxy in
// front of the server.
func (s *S3Server) NewClientFor(endpoint string, opts ...func(*s3.Options)) *s3.Client {
	base := s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	}
	return s3.New(base, opts...)
}

// S3 starts a versitygw server for one test and stops it in t.Cleanup; its log is printed
// when the test fails.
func S3(t testing.TB, opts S3Options) *S3Server {
	t.Helper()
	testOptions(t, &opts.Bin, &opts.Dir, VersityBin)
	s, err := StartS3(context.Background(), opts)
	return forTest(t, "versitygw", s, err)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("testenv: crypto/rand: " + err.Error()))
	}
	return hex.EncodeToString(b)
}
