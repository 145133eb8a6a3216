package azblobstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"hash/crc64"
	"math/rand/v2"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// headerSink receives what a blob.TransferValidationType sets on a request.
type headerSink struct{ crc64, md5 []byte }

func (h *headerSink) SetCRC64(v []byte)               { h.crc64 = v }
func (h *headerSink) SetMD5(v []byte)                 { h.md5 = v }
func (h *headerSink) SetStructuredBody(string, int64) {}

// applied returns the x-ms-content-crc64 and Content-MD5 that tv sets for data.
func applied(t *testing.T, tv blob.TransferValidationType, data []byte) headerSink {
	t.Helper()
	var h headerSink
	if _, err := tv.Apply(streaming.NopCloser(bytes.NewReader(data)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestCRC64MatchesSDK: the x-ms-content-crc64 the store sends is the one the SDK's own
// TransferValidationTypeComputeCRC64 computes, byte for byte, across the sizes where
// crc64nvme switches between table and carry-less multiply, and CRC-64/NVME's check
// value.
func TestCRC64MatchesSDK(t *testing.T) {
	data := make([]byte, 1<<20+13)
	rand.NewChaCha8([32]byte{7}).Read(data)
	for _, n := range []int{0, 1, 63, 127, 128, 1000, 1024, 4097, len(data)} {
		sum, err := crc64Of(context.Background(), bytes.NewReader(data[:n]), int64(n))
		if err != nil {
			t.Fatal(err)
		}
		got, want := applied(t, sum, data[:n]), applied(t, blob.TransferValidationTypeComputeCRC64(), data[:n])
		if !bytes.Equal(got.crc64, want.crc64) || got.md5 != nil || len(got.crc64) != 8 {
			t.Errorf("%d bytes: x-ms-content-crc64 %x (Content-MD5 %x), SDK computes %x", n, got.crc64, got.md5, want.crc64)
		}
	}
	sum, err := crc64Of(context.Background(), bytes.NewReader([]byte("123456789")), 9)
	if err != nil {
		t.Fatal(err)
	}
	if got := applied(t, sum, nil).crc64; binary.LittleEndian.Uint64(got) != 0xae8b14860a799888 {
		t.Errorf("CRC-64/NVME check value: %x", got)
	}
}

// BenchmarkBlockChecksum compares, in one run, the checksum of a 16 MiB block as the
// store computes it (crc64Of), the same CRC by hash/crc64 with the SDK's table, and the
// MD5 the store sent before.
func BenchmarkBlockChecksum(b *testing.B) {
	data := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{3}).Read(data)
	ra := bytes.NewReader(data)
	n := int64(len(data))
	for _, bc := range []struct {
		name string
		sum  func() error
	}{
		{"crc64nvme", func() error { _, err := crc64Of(context.Background(), ra, n); return err }},
		{"hash-crc64", func() error {
			return blobxfer.Hash(context.Background(), ra, 0, n, crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)))
		}},
		{"MD5", func() error { return blobxfer.Hash(context.Background(), ra, 0, n, md5.New()) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				if err := bc.sum(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
