package testenv

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// AzuriteVersion is the pinned npm azurite; the Makefile installs exactly this.
const AzuriteVersion = "3.37.0"

// The emulator's well-known development account (public, documented by Microsoft).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteOptions configures an Azurite blob service. The zero value is fine.
type AzuriteOptions struct {
	// Bin is the azurite-blob launcher; default: the pinned one from the tool cache.
	Bin string
	// Dir holds the blob data and the log; default: a new temporary directory.
	Dir string
	// Container is created at start; default "longhaul-test".
	Container string
	// ReadyTimeout bounds the wait for the service; default 60s (Node starts slowly
	// on a busy machine).
	ReadyTimeout time.Duration
}

// AzuriteServer is a running Azurite blob service with the development account.
type AzuriteServer struct {
	// ServiceURL is http://127.0.0.1:port/devstoreaccount1.
	ServiceURL string
	// Endpoint is http://127.0.0.1:port (the service URL without the account).
	Endpoint  string
	Account   string
	Key       string
	Container string
	emulator

	opts AzuriteOptions
}

// AzuritePath finds the azurite-blob launcher: $LONGHAUL_AZURITE, else the tool cache
// (npm's node_modules/.bin in azurite-<version>), else $PATH.
func AzuritePath() (string, error) {
	if p := os.Getenv("LONGHAUL_AZURITE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testenv: LONGHAUL_AZURITE=%s: %w", p, err)
		}
		return p, nil
	}
	p := filepath.Join(ToolsDir(), "azurite-"+AzuriteVersion, "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("testenv: azurite %s not found in %s or $PATH (run `make tools`)", AzuriteVersion, ToolsDir())
}

// StartAzurite starts Azurite's blob service on a random loopback port and creates the
// container.
func StartAzurite(ctx context.Context, opts AzuriteOptions) (*AzuriteServer, error) {
	bin, err := binOr(opts.Bin, AzuritePath)
	if err != nil {
		return nil, err
	}
	opts.Bin, opts.Container, opts.ReadyTimeout = bin, cmp.Or(opts.Container, "longhaul-test"), cmp.Or(opts.ReadyTimeout, 60*time.Second)
	s := &AzuriteServer{opts: opts, Account: AzuriteAccount, Key: AzuriteKey, Container: opts.Container}
	err = s.startOnFreePort(opts.Dir, "longhaul-azurite-", "azurite.log", nil,
		func(port int) error { return s.start(ctx, port) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start runs the service and waits until the container exists (creating it is the
// readiness probe: it needs the whole request path, authentication included).
func (s *AzuriteServer) start(ctx context.Context, port int) error {
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	s.ServiceURL = s.Endpoint + "/" + s.Account
	proc, err := startProcess("azurite", s.LogPath, nil, s.opts.Bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", filepath.Join(s.dir.path, "data"), "--skipApiVersionCheck", "--loose")
	if err != nil {
		return err
	}
	s.proc = proc
	c, err := s.NewClient()
	if err == nil {
		err = waitFor(ctx, proc, s.opts.ReadyTimeout, func(ctx context.Context) error {
			_, err := c.CreateContainer(ctx, s.Container, nil)
			if bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
				return nil
			}
			return err
		})
	}
	if err != nil {
		proc.stop(5 * time.Second)
	}
	return err
}

// NewClient returns an azblob client for the service with the account's shared key.
func (s *AzuriteServer) NewClient() (*azblob.Client, error) { return s.NewClientFor(s.Endpoint) }

// NewClientFor is NewClient against another endpoint (http://host:port, the account is
// appended), e.g. a fault-injecting proxy in front of the service. The SDK's own retries
// are off: the stores retry themselves.
func (s *AzuriteServer) NewClientFor(endpoint string) (*azblob.Client, error) {
	cred, err := azblob.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		return nil, fmt.Errorf("testenv: azurite credential: %w", err)
	}
	return azblob.NewClientWithSharedKeyCredential(endpoint+"/"+s.Account, cred, &azblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
}

// Azurite starts an Azurite blob service for one test and stops it in t.Cleanup; its
// log is printed when the test fails. A missing launcher skips the test (fails it when
// CI=true).
func Azurite(t testing.TB, opts AzuriteOptions) *AzuriteServer {
	t.Helper()
	testOptions(t, &opts.Bin, &opts.Dir, func(t testing.TB) string {
		p, err := AzuritePath()
		Require(t, err)
		return p
	})
	s, err := StartAzurite(context.Background(), opts)
	return forTest(t, "azurite", s, err)
}
