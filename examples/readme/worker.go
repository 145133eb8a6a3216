// Package readme holds the README's "Use it in your worker" snippet as code, so it
// compiles and its test keeps the README in step with it.
package readme

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// MigrateTable stands for the user's workflow.
func MigrateTable(ctx workflow.Context, snapshot []byte) ([]byte, error) { return snapshot, nil }

// runWorker is the snippet: everything between the BEGIN and END lines is in the README.
func runWorker(ctx context.Context) error {
	// BEGIN README
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	store, err := s3store.New(s3.NewFromConfig(awsCfg), "my-blobs", s3store.Options{Prefix: "prod"})
	if err != nil {
		return err
	}
	c, err := codec.New(store, codec.Options{Namespace: "default"})
	if err != nil {
		return err
	}
	tracing, _ := interceptor.New(interceptor.Options{}) // zero Options never fail
	cl, err := client.Dial(client.Options{
		Namespace:     "default",
		DataConverter: codec.NewDataConverter(c, nil),
		Interceptors:  []sdkinterceptor.ClientInterceptor{tracing},
	})
	if err != nil {
		return err
	}
	w := worker.New(cl, "migrations", worker.Options{}) // inherits codec and tracing
	w.RegisterWorkflow(MigrateTable)
	return w.Run(worker.InterruptCh()) // w.Run stops the worker; the process exit closes cl
	// END README
}
