package payloadsvc

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"google.golang.org/api/option"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
)

// checkParams refuses query parameters other than known, naming the URL.
func checkParams(storeURL string, q url.Values, known ...string) error {
	for k := range q {
		ok := false
		for _, kk := range known {
			ok = ok || k == kk
		}
		if !ok {
			return fmt.Errorf("payloadsvc: store URL %q: unknown parameter %q (known: %s)", storeURL, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// openGCS opens gs://bucket/prefix. Credentials come from Application Default
// Credentials; endpoint= names another JSON API endpoint (an emulator, Private Service
// Connect) and auth=none sends no credentials (emulators). STORAGE_EMULATOR_HOST is
// honoured as by the client library.
func openGCS(ctx context.Context, storeURL string, u *url.URL) (driver.Store, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("payloadsvc: store URL %q: no bucket (want gs://bucket/prefix)", storeURL)
	}
	q := u.Query()
	if err := checkParams(storeURL, q, "endpoint", "auth"); err != nil {
		return nil, err
	}
	var opts []option.ClientOption
	if ep := q.Get("endpoint"); ep != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(ep, "/")+"/storage/v1/"), storage.WithJSONReads())
	}
	switch q.Get("auth") {
	case "":
	case "none":
		opts = append(opts, option.WithoutAuthentication())
	default:
		return nil, fmt.Errorf("payloadsvc: store URL %q: auth=%q (want none, or leave it out for default credentials)", storeURL, q.Get("auth"))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store %s: gcs client: %w", storeURL, err)
	}
	s, err := gcsstore.New(client, u.Host, gcsstore.Options{Prefix: strings.TrimPrefix(u.Path, "/")})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("payloadsvc: store %s: %w", storeURL, err)
	}
	return s, nil
}

// openAzure opens azblob://container/prefix in account= (or $AZURE_STORAGE_ACCOUNT) at
// https://{account}.blob.core.windows.net/, or at endpoint= (the account's service URL:
// Azurite, sovereign clouds). Credentials: $AZURE_STORAGE_CONNECTION_STRING, else the
// account key in $AZURE_STORAGE_KEY, else azidentity's DefaultAzureCredential (managed
// identity, workload identity, Azure CLI).
func openAzure(storeURL string, u *url.URL) (driver.Store, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("payloadsvc: store URL %q: no container (want azblob://container/prefix)", storeURL)
	}
	q := u.Query()
	if err := checkParams(storeURL, q, "endpoint", "account"); err != nil {
		return nil, err
	}
	account := cmpOr(q.Get("account"), os.Getenv("AZURE_STORAGE_ACCOUNT"))
	serviceURL := q.Get("endpoint")
	if serviceURL == "" && account != "" {
		serviceURL = "https://" + account + ".blob.core.windows.net/"
	}
	var client *azblob.Client
	var err error
	switch {
	case os.Getenv("AZURE_STORAGE_CONNECTION_STRING") != "":
		client, err = azblob.NewClientFromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"), nil)
	case serviceURL == "":
		return nil, fmt.Errorf("payloadsvc: store URL %q: no account (set account= or endpoint=, or $AZURE_STORAGE_ACCOUNT)", storeURL)
	case os.Getenv("AZURE_STORAGE_KEY") != "":
		if account == "" {
			return nil, fmt.Errorf("payloadsvc: store URL %q: $AZURE_STORAGE_KEY needs the account name (account= or $AZURE_STORAGE_ACCOUNT)", storeURL)
		}
		var cred *azblob.SharedKeyCredential
		if cred, err = azblob.NewSharedKeyCredential(account, os.Getenv("AZURE_STORAGE_KEY")); err == nil {
			client, err = azblob.NewClientWithSharedKeyCredential(serviceURL, cred, nil)
		}
	default:
		var cred *azidentity.DefaultAzureCredential
		if cred, err = azidentity.NewDefaultAzureCredential(nil); err == nil {
			client, err = azblob.NewClient(serviceURL, cred, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store %s: azure client: %w", storeURL, err)
	}
	s, err := azblobstore.New(client, u.Host, azblobstore.Options{Prefix: strings.TrimPrefix(u.Path, "/")})
	if err != nil {
		return nil, fmt.Errorf("payloadsvc: store %s: %w", storeURL, err)
	}
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
