package azblobstore

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
)

// Scheme is the URL scheme Open serves: azblob://container/prefix.
const Scheme = "azblob"

// Open opens an Azure Blob Storage container under a prefix, for a storeurl.Mux:
//
//	azblob://container/prefix?account=name
//	azblob://container/prefix?endpoint=http://host:10000/devstoreaccount1&account=devstoreaccount1
//
// The account is account= or $AZURE_STORAGE_ACCOUNT, served at
// https://{account}.blob.core.windows.net/ unless endpoint= names the account's service
// URL (Azurite, sovereign clouds). Credentials: $AZURE_STORAGE_CONNECTION_STRING, else
// the account key in $AZURE_STORAGE_KEY, else azidentity's DefaultAzureCredential
// (managed identity, workload identity, Azure CLI).
func Open(_ context.Context, u *url.URL) (driver.Store, error) {
	loc, err := storeurl.ParseLocation("azblobstore", u, "container", "endpoint", "account")
	if err != nil {
		return nil, err
	}
	client, err := openClient(u, loc.Query)
	if err != nil {
		return nil, err
	}
	s, err := New(client, loc.Bucket, Options{Prefix: loc.Prefix})
	if err != nil {
		return nil, storeurl.InvalidBecause("azblobstore", u, err)
	}
	return s, nil
}

// openClient builds the service client from u's account and endpoint and the
// credentials the environment holds.
func openClient(u *url.URL, q url.Values) (*azblob.Client, error) {
	account := cmp.Or(q.Get("account"), os.Getenv("AZURE_STORAGE_ACCOUNT"))
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
		return nil, storeurl.Invalid("azblobstore", u, "no account (set account= or endpoint=, or $AZURE_STORAGE_ACCOUNT)")
	case os.Getenv("AZURE_STORAGE_KEY") != "":
		if account == "" {
			return nil, storeurl.Invalid("azblobstore", u, "$AZURE_STORAGE_KEY needs the account name (account= or $AZURE_STORAGE_ACCOUNT)")
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
		return nil, fmt.Errorf("azblobstore: open %s: azure client: %w", u.Redacted(), err)
	}
	return client, nil
}
