package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

// Result is what MigrationWorkflow reports.
type Result struct {
	InputSize   int
	InputSHA256 string
	ResultSize  int
	Verified    bool
}

// MigrationWorkflow hands its large input (think: a table snapshot) to an activity and
// checks the activity's large result.
func MigrationWorkflow(ctx workflow.Context, input []byte) (Result, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute})
	var out []byte
	if err := workflow.ExecuteActivity(ctx, TransformActivity, input).Get(ctx, &out); err != nil {
		return Result{}, err
	}
	return Result{
		InputSize:   len(input),
		InputSHA256: sum(input),
		ResultSize:  len(out),
		Verified:    len(out) == len(input) && sum(out) == sum(transform(input)),
	}, nil
}

// TransformActivity returns a transformed copy of its input, as large as the input.
func TransformActivity(ctx context.Context, input []byte) ([]byte, error) {
	activity.GetLogger(ctx).Info("transforming", "bytes", len(input))
	return transform(input), nil
}

func transform(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	copy(out, "TRANSFORMED:")
	return out
}

// generate returns size bytes of JSON-like rows with random ids: compressible, like a
// real table snapshot.
func generate(size int) []byte {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	b := make([]byte, 0, size+128)
	for len(b) < size {
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, r.Uint64(), 10)
		b = append(b, `,"user":"user-`...)
		b = strconv.AppendUint(b, uint64(r.Uint32()), 16)
		b = append(b, `","state":"active","balance":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1e6)), 10)
		b = append(b, "}\n"...)
	}
	return b[:size]
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
