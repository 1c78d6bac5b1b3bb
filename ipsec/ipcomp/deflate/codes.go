package deflate

import "math/bits"

// A code is a bit string ready for the bit writer: the bits, first bit
// in the low end, in the low 24 bits and their number in the high 8.

// literalCodes are the fixed Huffman codes of the literal bytes (RFC 1951
// §3.2.6): 0-143 in 8 bits from 00110000, 144-255 in 9 bits from
// 110010000. Huffman codes go most significant bit first, hence reversed.
var literalCodes = func() (t [256]uint32) {
	for v := range 256 {
		if v < 144 {
			t[v] = code(0x30+uint32(v), 8)
		} else {
			t[v] = code(0x190+uint32(v-144), 9)
		}
	}
	return t
}()

// lengthCodes[l-3] is match length l as its length symbol (257-285, fixed
// codes: 256-279 in 7 bits from 0, 280-287 in 8 bits from 11000000)
// followed by its extra bits (RFC 1951 §3.2.5).
var lengthCodes = func() (t [maxMatch - 2]uint32) {
	sym, base, extra := 257, 3, uint32(0)
	for l := 3; l <= maxMatch; l++ {
		// Symbol 265 starts the 1-extra-bit codes; every 4 symbols the
		// extra bits grow by one, up to 284 (227-257). 258 is 285.
		for sym < 284 && l >= base+1<<extra {
			base += 1 << extra
			sym++
			if sym >= 265 && (sym-265)%4 == 0 {
				extra++
			}
		}
		s, x, nx := uint32(sym), uint32(l-base), extra
		if l == maxMatch {
			s, x, nx = 285, 0, 0
		}
		var c uint32
		if s < 280 {
			c = code(s-256, 7)
		} else {
			c = code(0xc0+s-280, 8)
		}
		n := c >> 24
		t[l-3] = (n+nx)<<24 | x<<n | c&0xffffff
	}
	return t
}()

// distReversed are the 5-bit distance codes 0-29, reversed.
var distReversed = func() (t [30]uint8) {
	for c := range 30 {
		t[c] = uint8(code(uint32(c), 5))
	}
	return t
}()

// distCode is distance d0+1 as its code and extra bits: codes 0-3 are
// distances 1-4, then each pair of codes doubles the range, with d0's
// low bits as the extra bits.
func distCode(d0 int) uint32 {
	if d0 < 4 {
		return 5<<24 | uint32(distReversed[d0])
	}
	extra := uint32(bits.Len32(uint32(d0))) - 2
	c := 2*extra + 2 + uint32(d0)>>extra&1
	x := uint32(d0) & (1<<extra - 1)
	return (5+extra)<<24 | x<<5 | uint32(distReversed[c])
}

// code is the n-bit Huffman code v, reversed for the bit writer.
func code(v uint32, n uint32) uint32 {
	return n<<24 | bits.Reverse32(v)>>(32-n)
}
