package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Other offloaders, rebuilt from their documented formats (never from their code), so
// tests can put their references into real histories and check longhaul reads them.

// TemporalS3Writer is a write-only converter.StorageDriver that stores payloads in the
// documented format of Temporal's S3 External Storage driver: the serialized payload,
// uncompressed, at TemporalS3Key, with claims {bucket, key, hash_algorithm, hash_value}.
type TemporalS3Writer struct {
	Client *s3.Client
	Bucket string
}

var _ converter.StorageDriver = (*TemporalS3Writer)(nil)

// Name is the S3 driver's default name.
func (w *TemporalS3Writer) Name() string { return "aws.s3driver" }

// Type is the S3 driver's type.
func (w *TemporalS3Writer) Type() string { return "aws.s3driver" }

// Store writes each payload and returns its claim.
func (w *TemporalS3Writer) Store(sc converter.StorageDriverStoreContext, ps []*commonpb.Payload) ([]converter.StorageDriverClaim, error) {
	claims := make([]converter.StorageDriverClaim, len(ps))
	for i, p := range ps {
		claim, err := w.Put(sc.Context, sc.Target, p)
		if err != nil {
			return nil, err
		}
		claims[i] = converter.StorageDriverClaim{ClaimData: claim}
	}
	return claims, nil
}

// Put writes one payload for target and returns its claim data.
func (w *TemporalS3Writer) Put(ctx context.Context, target converter.StorageDriverTargetInfo, p *commonpb.Payload) (
	map[string]string, error) {
	data, err := proto.Marshal(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	key := TemporalS3Key(target, hexSum)
	in := &s3.PutObjectInput{Bucket: aws.String(w.Bucket), Key: aws.String(key), Body: bytes.NewReader(data)}
	if _, err := w.Client.PutObject(ctx, in); err != nil {
		return nil, err
	}
	return map[string]string{"bucket": w.Bucket, "key": key, "hash_algorithm": "sha256", "hash_value": hexSum}, nil
}

// Retrieve is not needed: reading is what the tests check longhaul does.
func (w *TemporalS3Writer) Retrieve(converter.StorageDriverRetrieveContext, []converter.StorageDriverClaim) ([]*commonpb.Payload, error) {
	return nil, errors.New("testenv: TemporalS3Writer only writes")
}

// TemporalS3Key is the documented object key: v0/ns/<ns>/wt/<type>/wi/<id>/ri/<run>/d/sha256/<hex>
// (activities: /at/<type>/ai/<id>/), segments percent-encoded, "null" when empty;
// v0/d/sha256/<hex> without a target.
func TemporalS3Key(target converter.StorageDriverTargetInfo, hexSum string) string {
	tail := "/d/sha256/" + hexSum
	switch t := target.(type) {
	case converter.StorageDriverWorkflowInfo:
		return "v0/ns/" + pctSegment(t.Namespace) + "/wt/" + pctSegment(t.WorkflowType) + "/wi/" + pctSegment(t.WorkflowID) +
			"/ri/" + pctSegment(t.RunID) + tail
	case converter.StorageDriverActivityInfo:
		return "v0/ns/" + pctSegment(t.Namespace) + "/at/" + pctSegment(t.ActivityType) + "/ai/" + pctSegment(t.ActivityID) +
			"/ri/" + pctSegment(t.RunID) + tail
	}
	return "v0" + tail
}

// pctSegment keeps letters, digits and !-_.*'() and writes every other byte as %XX.
func pctSegment(s string) string {
	if s == "" {
		return "null"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!-_.*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// StorageRef is the reference payload the SDK leaves in history for a driver's claim.
func StorageRef(driver string, claim map[string]string) *commonpb.Payload {
	data, err := protojson.Marshal(&sdkpb.ExternalStorageReference{DriverName: driver, ClaimData: claim})
	if err != nil {
		panic(err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{
		"encoding": []byte("json/protobuf"), "messageType": []byte("temporal.api.sdk.v1.ExternalStorageReference"),
	}, Data: data}
}
