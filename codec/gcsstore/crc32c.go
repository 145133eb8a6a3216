package gcsstore

// crc32cCombine returns the CRC32C of A followed by B from crcA, crcB and B's length,
// as GCS computes a composed object's checksum from its components'. It is zlib's
// crc32_combine: appending len zero bits to A's CRC is a linear map over GF(2),
// applied by repeated squaring of the one-zero-bit operator.
func crc32cCombine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA ^ crcB // B is empty: its CRC is 0
	}
	const poly = 0x82f63b78 // Castagnoli, reversed
	var even, odd [32]uint32
	odd[0] = poly // the operator for one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		// Each round squares the operator (one zero byte, two, four, ...) and applies it
		// where lenB has a one bit.
		gf2Square(&even, &odd)
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range square {
		square[n] = gf2Times(mat, mat[n])
	}
}
