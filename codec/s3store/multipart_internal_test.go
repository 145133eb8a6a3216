package s3store

import "testing"

func TestPartSizeFor(t *testing.T) {
	s := &Store{opts: Options{PartSize: 16 << 20}}
	for _, tc := range []struct{ size, want int64 }{
		{17 << 20, 16 << 20},
		{10000 * (16 << 20), 16 << 20}, // exactly 10,000 parts
		{10000*(16<<20) + 1, 17 << 20}, // one byte more: next whole MiB
		{1 << 40, 105 << 20},           // 1 TiB: 104.9 MiB rounded up
		{5 << 40, 525 << 20},           // 5 TiB, S3's largest object: 524.3 MiB up
	} {
		got := s.partSizeFor(tc.size)
		if got != tc.want || (tc.size+got-1)/got > maxParts || got > maxPartSize {
			t.Errorf("partSizeFor(%d) = %d, want %d (<= 10,000 parts)", tc.size, got, tc.want)
		}
	}
}
