// Package longhaul is a library for Temporal workers that carry very large data and run
// for days: database migrations, backfills and other runbooks turned into workflows whose
// inputs and results are tens or hundreds of megabytes, and whose executions last a week.
//
// It removes two walls such workflows hit:
//
//   - Payload size. Temporal rejects payloads over 2 MiB. Package [codec] is a data
//     converter that moves every payload over a threshold into blob storage — S3 or any
//     S3-compatible server ([codec/s3store]), a local directory ([codec/filestore]), memory
//     ([codec/memstore]) or the payload service ([payloadsvc]) — and leaves a small,
//     readable, content-addressed reference in history. Blobs are deduplicated, verified
//     against their SHA-256 on every read, compressed, cached for replays, and kept safe
//     from age-based retention while they are still referenced.
//   - Observability of long workflows. Package [interceptor] reports each workflow to
//     Datadog as one accurate long-lived span, exported exactly once however often the
//     workflow is evicted, replayed or moved, with its activities, timers, signals and
//     children visible as they happen.
//
// Package [payloadsvc] is an HTTP service in front of a store: workers offload through it
// without S3 credentials, and the Temporal UI and CLI decode payloads through it (it speaks
// Temporal's codec-server protocol).
//
// # Quick start
//
// Offload large payloads of a worker to a directory (use s3store in production):
//
//	store, err := filestore.New("/var/lib/longhaul/blobs")
//	if err != nil {
//		log.Fatal(err)
//	}
//	c, err := codec.New(store, codec.Options{Namespace: "default"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	tracing, err := interceptor.New(interceptor.Options{ServiceName: "migrations"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	cl, err := client.Dial(client.Options{
//		Namespace:     "default",
//		DataConverter: codec.NewDataConverter(c, nil), // nil: the SDK's default converter
//		Interceptors:  []sdkinterceptor.ClientInterceptor{tracing}, // go.temporal.io/sdk/interceptor
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer cl.Close()
//	w := worker.New(cl, "migrations", worker.Options{}) // inherits converter and tracing
//	w.RegisterWorkflow(MigrateTable)
//	log.Fatal(w.Run(worker.InterruptCh()))
//
// Clients that start workflows or read their results need the same DataConverter.
package longhaul
