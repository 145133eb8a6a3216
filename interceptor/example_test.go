package interceptor_test

import (
	"context"
	"log"
	"time"

	"go.temporal.io/sdk/client"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// ExampleNew traces a client and the workers made from it. It needs a Temporal server
// and a Datadog agent, so it is compiled but not run.
func ExampleNew() {
	tracer.Start(tracer.WithService("migrations"))
	defer tracer.Stop()

	tracing, err := interceptor.New(interceptor.Options{
		// Running workflows show in Datadog as growing spans, re-sent every 2 minutes
		// here (the default is DefaultSnapshotInterval; NoSnapshots turns them off).
		SnapshotInterval: 2 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.Dial(client.Options{
		HostPort:     "127.0.0.1:7233",
		Interceptors: []sdkinterceptor.ClientInterceptor{tracing},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	w := worker.New(c, "migrations", worker.Options{}) // inherits the interceptor
	w.RegisterWorkflow(migrateTable)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	if _, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: "migrations"}, migrateTable, "orders"); err != nil {
		log.Fatal(err)
	}
}

// migrateTable wraps its work in a replay-safe span of its own.
func migrateTable(ctx workflow.Context, table string) error {
	span, ctx := interceptor.StartSpan(ctx, "migrate.table", tracer.ResourceName(table))
	err := workflow.Sleep(ctx, time.Hour)
	span.Finish(tracer.WithError(err))
	return err
}

// ExampleCloser runs a closer next to a traced worker, so runs that are terminated,
// time out or are reset end in Datadog too, about a minute after they close. Run it in
// every worker process if you like: one closer workflow runs per namespace. It needs a
// Temporal server and a Datadog agent, so it is compiled but not run.
func ExampleCloser() {
	tracer.Start(tracer.WithService("migrations"))
	defer tracer.Stop()

	tracing, err := interceptor.New(interceptor.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.Dial(client.Options{
		HostPort:     "127.0.0.1:7233",
		Namespace:    "default",
		Interceptors: []sdkinterceptor.ClientInterceptor{tracing},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	closer, err := tracing.NewCloser(c, interceptor.CloserOptions{
		Namespace: "default",
		Query:     "TaskQueue = 'migrations'", // the runs this interceptor traces
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		if err := closer.Run(ctx); err != nil {
			log.Print(err)
		}
	}()

	// Or as part of a worker that polls the closer's task queue:
	w := closer.Attach(worker.New(c, interceptor.DefaultCloserTaskQueue, worker.Options{}))
	if err := w.Run(worker.InterruptCh()); err != nil {
		log.Fatal(err)
	}
}
