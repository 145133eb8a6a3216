package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// DataDog codec versions a DataDogWriter writes.
const (
	DataDogV1 = "v1" // key "blobs/<digest>" (2022-09 .. 2023-02, WithVersion("v1"))
	DataDogV2 = "v2" // key "/blobs/<ns>/common/<digest>/<metadata hash>" (the default)
	// DataDogV1Legacy is v1 as written before 2022-09: "location" instead of "key"
	// (the memory driver's location, the digest).
	DataDogV1Legacy = "v1-legacy"
)

// DataDogWriter writes references the way DataDog's large-payload codec (its
// codec.Codec.Encode, github DataDog/temporal-large-payload-codec) does, derived from a
// reading of that code: it PUTs a payload's Data to the service and replaces the payload
// with metadata {"encoding":"json/plain","temporal.io/remote-codec":<version>} and data
// {"metadata":{...},"size":N,"digest":"sha256:<hex>","key":"<key from the service>"}.
// It is a converter.PayloadCodec (Decode passes through) for a client on the DataDog codec.
type DataDogWriter struct {
	// URL is the service's base URL.
	URL string
	// Version is DataDogV1, DataDogV2 (default) or DataDogV1Legacy.
	Version string
	// Namespace is the codec's WithNamespace; it becomes a segment of v2 keys.
	Namespace string
	// MinBytes: payloads whose serialized size is over it are written; 0 means DataDog's
	// default, 128000.
	MinBytes int
	// Client makes the requests; default a client of the writer's own.
	Client *http.Client
}

var _ converter.PayloadCodec = DataDogWriter{}

// putClient makes the PUTs, on connections of their own. Two races end a PUT with
// "connection reset by peer", and Put sends it again for both: a pooled connection may be
// one the service is closing after a faulty answer (a GET that declared fewer bytes than
// it wrote is complete for the client, but net/http's server closes it; a GET on it is
// retried by the transport, a PUT is not replayable), and the service answers a blob it
// has without reading the body (on a closing connection, the unread body resets it).
var putClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// Encode implements converter.PayloadCodec.
func (w DataDogWriter) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		out[i] = p
		if proto.Size(p) > cmpOr(w.MinBytes, 128000) {
			ref, err := w.Put(context.Background(), p)
			if err != nil {
				return nil, err
			}
			out[i] = ref
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec; reading is what longhaul is tested for.
func (w DataDogWriter) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) { return ps, nil }

// dataDogRef is the reference's data in DataDog's field order.
type dataDogRef struct {
	Metadata map[string][]byte `json:"metadata"`
	Size     uint              `json:"size"`
	Digest   string            `json:"digest"`
	Key      string            `json:"key"`
}

// dataDogLegacyRef is the reference's data before v2 (2022-09).
type dataDogLegacyRef struct {
	Metadata map[string][]byte `json:"metadata"`
	Size     uint              `json:"size"`
	Digest   string            `json:"digest"`
	Location string            `json:"location"`
}

// Put stores p's Data and returns its reference payload.
func (w DataDogWriter) Put(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	version := w.Version
	if version == "" {
		version = DataDogV2
	}
	sum := sha256.Sum256(p.GetData())
	digest := "sha256:" + hex.EncodeToString(sum[:])
	// The PUT is content-addressed, so sending it again is safe; a reset connection is
	// retried (see putClient), an answer is not.
	var key string
	var err error
	for attempt := 1; ; attempt++ {
		key, err = w.upload(ctx, version, digest, p)
		var netErr net.Error
		if err == nil || attempt == 3 || !errors.As(err, &netErr) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	var ref any = dataDogRef{Metadata: p.GetMetadata(), Size: uint(len(p.GetData())), Digest: digest, Key: key}
	if version == DataDogV1Legacy {
		ref = dataDogLegacyRef{Metadata: p.GetMetadata(), Size: uint(len(p.GetData())), Digest: digest, Location: digest}
		version = DataDogV1
	}
	out, err := converter.GetDefaultDataConverter().ToPayload(ref)
	if err != nil {
		return nil, err
	}
	out.Metadata["temporal.io/remote-codec"] = []byte(version)
	return out, nil
}

// upload is the codec's PUT: {base}/{v1|v2}/blobs/put?digest=..&namespace=.. with the
// Data, Content-Type application/octet-stream and X-Temporal-Metadata (base64 JSON of the
// metadata); it returns the key of the JSON answer.
func (w DataDogWriter) upload(ctx context.Context, version, digest string, p *commonpb.Payload) (string, error) {
	u, err := url.Parse(w.URL)
	if err != nil {
		return "", err
	}
	path := "v2"
	if version != DataDogV2 {
		path = "v1"
	}
	u = u.JoinPath(path, "blobs/put")
	u.RawQuery = url.Values{"digest": {digest}, "namespace": {w.Namespace}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(p.GetData()))
	if err != nil {
		return "", err
	}
	md, err := json.Marshal(p.GetMetadata())
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Temporal-Metadata", base64.StdEncoding.EncodeToString(md))
	cl := w.Client
	if cl == nil {
		cl = putClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("testenv: DataDog PUT: %s: %s", resp.Status, body)
	}
	var answer struct{ Key string } // matched case-insensitively, as the codec reads "key"
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", fmt.Errorf("testenv: DataDog PUT answer: %w", err)
	}
	return answer.Key, nil
}

// DataDogKey is the v2 handler's key for a blob of namespace ns with digest
// "sha256:<hex>" and the original payload's metadata md:
// /blobs/<ns>/common/<digest>/<metadata hash>, or /blobs/<ns>/custom/<prefix>/<digest>/<hash>
// when md has "remote-codec/key-prefix". The metadata hash is "sha256:" and the hex SHA-256
// of each key then its value, keys sorted, no separators.
func DataDogKey(ns, digest string, md map[string][]byte) (string, error) {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write(md[k])
	}
	mdHash := "sha256:" + hex.EncodeToString(h.Sum(nil))
	prefix := string(md["remote-codec/key-prefix"])
	if prefix == "" {
		return "/blobs/" + ns + "/common/" + digest + "/" + mdHash, nil
	}
	if !validPrefix(prefix) {
		return "", fmt.Errorf("'%s' is not a valid prefix", prefix)
	}
	return "/blobs/" + ns + "/custom/" + prefix + "/" + digest + "/" + mdHash, nil
}

// Ref stores p's Data as the DataDog codec does (an HTTP PUT to the service) and returns
// its reference payload; version is DataDogV1, DataDogV2 or DataDogV1Legacy. It panics
// on failure: the double is local and a failure is a broken test.
func (s *DataDogService) Ref(version, namespace string, p *commonpb.Payload) *commonpb.Payload {
	ref, err := DataDogWriter{URL: s.URL, Version: version, Namespace: namespace}.Put(context.Background(), p)
	if err != nil {
		panic(err)
	}
	return ref
}

// Codec returns a client-side PayloadCodec that writes v2 references for payloads over
// 1 KiB, the way a worker on the DataDog codec filled its histories.
func (s *DataDogService) Codec(namespace string) converter.PayloadCodec {
	return DataDogWriter{URL: s.URL, Namespace: namespace, MinBytes: 1 << 10}
}

// DataDogPayload is a reproducible payload as the SDK's default data converter makes it
// for a DataDog codec to offload: kind "random" is []byte (binary/plain, incompressible),
// kind "json" a JSON document (json/plain) of records. Data is exactly size bytes.
func DataDogPayload(kind string, size int, seed uint64) *commonpb.Payload {
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 'd', 'd'})
	if kind != "json" {
		b := make([]byte, size)
		_, _ = src.Read(b)
		return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: b}
	}
	r := rand.New(src)
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: jsonDoc(r, size)}
}

// jsonDoc is a JSON object {"records":[...],"pad":"..."} of exactly size bytes (size >= 32).
func jsonDoc(r *rand.Rand, size int) []byte {
	const tail = `],"pad":""}`
	b := make([]byte, 0, size)
	b = append(b, `{"records":[`...)
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	for i := 0; ; i++ {
		rec := []byte(`{"id":`)
		rec = strconv.AppendInt(rec, int64(i), 10)
		rec = append(rec, `,"name":"`...)
		rec = append(rec, words[r.IntN(len(words))]...)
		rec = append(rec, `","value":`...)
		rec = strconv.AppendFloat(rec, r.Float64()*1e6, 'f', 3, 64)
		rec = append(rec, '}')
		if len(b)+1+len(rec)+len(tail) > size {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, rec...)
	}
	b = append(b, `],"pad":"`...)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}
