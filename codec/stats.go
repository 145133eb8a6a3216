package codec

import (
	"sync/atomic"

	"go.temporal.io/sdk/client"
)

// Stats is a snapshot of a Codec's counters since New.
type Stats struct {
	// PayloadsOffloaded counts payloads replaced by a reference.
	PayloadsOffloaded int64
	// BytesOffloaded sums the serialized size of offloaded payloads.
	BytesOffloaded int64
	// BlobsStored counts blobs written to the store (dedupe hits excluded).
	BlobsStored int64
	// BytesStored sums the stored (compressed) size of blobs written.
	BytesStored int64
	// DedupeHits counts offloads whose blob was already in the store.
	DedupeHits int64
	// PayloadsDecoded counts references resolved to their payload.
	PayloadsDecoded int64
	// CacheHits and CacheMisses count decode cache lookups.
	CacheHits, CacheMisses int64
	// BytesFetched sums the stored bytes read from the store.
	BytesFetched int64
	// StoreErrors counts store operations that failed (after the driver's retries).
	StoreErrors int64
	// CacheBytes is what the decode cache holds now.
	CacheBytes int64
}

// Metric names reported to Options.MetricsHandler (Temporal's metrics interface, so the
// worker's existing Prometheus, OpenTelemetry or tally handler exports them).
const (
	MetricPayloadsOffloaded = "longhaul_codec_payloads_offloaded"
	MetricBytesOffloaded    = "longhaul_codec_bytes_offloaded"
	MetricBlobsStored       = "longhaul_codec_blobs_stored"
	MetricBytesStored       = "longhaul_codec_bytes_stored"
	MetricDedupeHits        = "longhaul_codec_dedupe_hits"
	MetricPayloadsDecoded   = "longhaul_codec_payloads_decoded"
	MetricCacheHits         = "longhaul_codec_cache_hits"
	MetricCacheMisses       = "longhaul_codec_cache_misses"
	MetricBytesFetched      = "longhaul_codec_bytes_fetched"
	MetricStoreErrors       = "longhaul_codec_store_errors"
)

type counter struct {
	v    atomic.Int64
	name string
}

type counters struct {
	h client.MetricsHandler

	payloadsOffloaded, bytesOffloaded, blobsStored, bytesStored, dedupeHits,
	payloadsDecoded, cacheHits, cacheMisses, bytesFetched, storeErrors counter
}

func newCounters(h client.MetricsHandler) *counters {
	c := &counters{h: h}
	c.payloadsOffloaded.name = MetricPayloadsOffloaded
	c.bytesOffloaded.name = MetricBytesOffloaded
	c.blobsStored.name = MetricBlobsStored
	c.bytesStored.name = MetricBytesStored
	c.dedupeHits.name = MetricDedupeHits
	c.payloadsDecoded.name = MetricPayloadsDecoded
	c.cacheHits.name = MetricCacheHits
	c.cacheMisses.name = MetricCacheMisses
	c.bytesFetched.name = MetricBytesFetched
	c.storeErrors.name = MetricStoreErrors
	return c
}

func (c *counters) add(k *counter, n int64) {
	k.v.Add(n)
	if c.h != nil {
		c.h.Counter(k.name).Inc(n)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		PayloadsOffloaded: c.payloadsOffloaded.v.Load(),
		BytesOffloaded:    c.bytesOffloaded.v.Load(),
		BlobsStored:       c.blobsStored.v.Load(),
		BytesStored:       c.bytesStored.v.Load(),
		DedupeHits:        c.dedupeHits.v.Load(),
		PayloadsDecoded:   c.payloadsDecoded.v.Load(),
		CacheHits:         c.cacheHits.v.Load(),
		CacheMisses:       c.cacheMisses.v.Load(),
		BytesFetched:      c.bytesFetched.v.Load(),
		StoreErrors:       c.storeErrors.v.Load(),
	}
}
