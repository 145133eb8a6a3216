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

func TestPartLayout(t *testing.T) {
	const part = 16 << 20
	for _, tc := range []struct {
		size      int64
		wantParts int64
		wantLast  int64
	}{
		{part, 1, part},
		{part + 1, 1, part + 1},              // a 1-byte tail rides with the part
		{part + part/16, 1, part + part/16},  // up to a sixteenth
		{part + part/16 + 1, 2, part/16 + 1}, // over it: a part of its own
		{2*part + 31, 2, part + 31},          // a 32 MiB payload and its framing
		{3 * part, 3, part},                  // exact multiple
		{5 << 20, 1, 5 << 20},                // under one part
	} {
		n := partCount(tc.size, part)
		off, last := partRange(n-1, n, part, tc.size)
		if n != tc.wantParts || last != tc.wantLast || off+last != tc.size {
			t.Errorf("size %d: %d parts, last %d at %d; want %d parts, last %d", tc.size, n, last, off, tc.wantParts, tc.wantLast)
		}
	}
	if got := tailSlack(maxPartSize); got != 0 {
		t.Errorf("tailSlack(5 GiB) = %d, want 0 (parts may not exceed 5 GiB)", got)
	}
}
