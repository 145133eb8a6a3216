package codec

import (
	"sync/atomic"

	"go.temporal.io/sdk/client"
)

// Stats is a snapshot of a Codec's counters since New. Options.MetricsHandler receives the
// same counters under the names in parentheses (Temporal's metrics interface, so the
// worker's Prometheus, OpenTelemetry or tally handler exports them).
type Stats struct {
	// PayloadsOffloaded counts payloads replaced by a reference
	// (metric longhaul_codec_payloads_offloaded).
	PayloadsOffloaded int64
	// BytesOffloaded sums the serialized size of offloaded payloads
	// (longhaul_codec_bytes_offloaded).
	BytesOffloaded int64
	// BlobsStored counts blobs written to the store, dedupe hits excluded
	// (longhaul_codec_blobs_stored).
	BlobsStored int64
	// BytesStored sums the stored (compressed) size of blobs written
	// (longhaul_codec_bytes_stored).
	BytesStored int64
	// DedupeHits counts offloads whose blob was already in the store
	// (longhaul_codec_dedupe_hits).
	DedupeHits int64
	// PayloadsDecoded counts references resolved to their payload
	// (longhaul_codec_payloads_decoded).
	PayloadsDecoded int64
	// CacheHits and CacheMisses count decode cache lookups
	// (longhaul_codec_cache_hits, longhaul_codec_cache_misses).
	CacheHits, CacheMisses int64
	// BytesFetched sums the stored bytes read from the store
	// (longhaul_codec_bytes_fetched).
	BytesFetched int64
	// StoreErrors counts store operations that failed after the driver's retries
	// (longhaul_codec_store_errors).
	StoreErrors int64
	// CacheBytes is what the decode cache holds now.
	CacheBytes int64
}

// Metric names reported to Options.MetricsHandler (Temporal's metrics interface, so the
// worker's existing Prometheus, OpenTelemetry or tally handler exports them).
const (
	metricPayloadsOffloaded = "longhaul_codec_payloads_offloaded"
	metricBytesOffloaded    = "longhaul_codec_bytes_offloaded"
	metricBlobsStored       = "longhaul_codec_blobs_stored"
	metricBytesStored       = "longhaul_codec_bytes_stored"
	metricDedupeHits        = "longhaul_codec_dedupe_hits"
	metricPayloadsDecoded   = "longhaul_codec_payloads_decoded"
	metricCacheHits         = "longhaul_codec_cache_hits"
	metricCacheMisses       = "longhaul_codec_cache_misses"
	metricBytesFetched      = "longhaul_codec_bytes_fetched"
	metricStoreErrors       = "longhaul_codec_store_errors"
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
	c.payloadsOffloaded.name = metricPayloadsOffloaded
	c.bytesOffloaded.name = metricBytesOffloaded
	c.blobsStored.name = metricBlobsStored
	c.bytesStored.name = metricBytesStored
	c.dedupeHits.name = metricDedupeHits
	c.payloadsDecoded.name = metricPayloadsDecoded
	c.cacheHits.name = metricCacheHits
	c.cacheMisses.name = metricCacheMisses
	c.bytesFetched.name = metricBytesFetched
	c.storeErrors.name = metricStoreErrors
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
