package codec

import (
	"container/list"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// cache is an LRU of decoded payloads keyed by digest and bounded by the bytes it holds.
// Replays decode the same references again and again; this keeps them off the store.
type cache struct {
	mu       sync.Mutex
	capacity int64
	size     int64
	order    *list.List // front = most recent; values are *cacheEntry
	items    map[string]*list.Element
}

type cacheEntry struct {
	digest  string
	payload *commonpb.Payload
	cost    int64
}

func newCache(capacity int64) *cache {
	if capacity <= 0 {
		return nil
	}
	return &cache{capacity: capacity, order: list.New(), items: make(map[string]*list.Element)}
}

// payloadCost is the memory a cached payload keeps alive: the whole buffer its Data
// slices (its capacity, not its length), metadata entries and unknown fields.
func payloadCost(p *commonpb.Payload) int64 {
	n := int64(cap(p.GetData())) + int64(len(p.ProtoReflect().GetUnknown())) + 64
	for k, v := range p.GetMetadata() {
		n += int64(len(k) + len(v) + 32)
	}
	for _, e := range p.GetExternalPayloads() {
		n += int64(proto.Size(e)) + 32
	}
	return n
}

// get returns a shallow copy of the cached payload: callers may replace its fields or
// metadata entries without touching the cache. Data is shared and must not be modified
// in place (the SDK never does).
func (c *cache) get(digest string) (*commonpb.Payload, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[digest]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return shallowCopy(el.Value.(*cacheEntry).payload), true
}

func (c *cache) put(digest string, p *commonpb.Payload) {
	if c == nil {
		return
	}
	cost := payloadCost(p)
	if cost > c.capacity {
		return
	}
	p = shallowCopy(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[digest]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[digest] = c.order.PushFront(&cacheEntry{digest: digest, payload: p, cost: cost})
	c.size += cost
	for c.size > c.capacity {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.items, e.digest)
		c.size -= e.cost
	}
}

// bytes returns the cost currently held.
func (c *cache) bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

func shallowCopy(p *commonpb.Payload) *commonpb.Payload {
	md := make(map[string][]byte, len(p.GetMetadata()))
	for k, v := range p.GetMetadata() {
		md[k] = v
	}
	return &commonpb.Payload{Metadata: md, Data: p.GetData(), ExternalPayloads: p.GetExternalPayloads()}
}
