package hdr

import "encoding/binary"

// Sum adds data to a running one's-complement sum (RFC 1071). Odd-length
// data is padded with a zero byte. Feed it pieces of even length except
// the last. Fold the result with Fold. initial may be any value: it is
// first folded to 33 bits (2^32 ≡ 1 mod 0xffff), so the accumulator
// cannot wrap and lose a carry.
func Sum(data []byte, initial uint64) uint64 {
	s := initial>>32 + initial&0xffffffff
	for len(data) >= 32 {
		s0 := uint64(binary.BigEndian.Uint32(data[0:]))
		s1 := uint64(binary.BigEndian.Uint32(data[4:]))
		s2 := uint64(binary.BigEndian.Uint32(data[8:]))
		s3 := uint64(binary.BigEndian.Uint32(data[12:]))
		s4 := uint64(binary.BigEndian.Uint32(data[16:]))
		s5 := uint64(binary.BigEndian.Uint32(data[20:]))
		s6 := uint64(binary.BigEndian.Uint32(data[24:]))
		s7 := uint64(binary.BigEndian.Uint32(data[28:]))
		s += s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
		data = data[32:]
	}
	for len(data) >= 4 {
		s += uint64(binary.BigEndian.Uint32(data))
		data = data[4:]
	}
	if len(data) >= 2 {
		s += uint64(binary.BigEndian.Uint16(data))
		data = data[2:]
	}
	if len(data) == 1 {
		s += uint64(data[0]) << 8
	}
	return s
}

// Fold reduces a running sum to 16 bits (not complemented).
func Fold(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}

// Checksum returns the Internet checksum of data: the complement of the
// folded sum.
func Checksum(data []byte, initial uint64) uint16 {
	return ^Fold(Sum(data, initial))
}

// PseudoSum4 returns the sum of the IPv4 pseudo-header (RFC 768/793).
func PseudoSum4(src, dst [4]byte, proto uint8, length int) uint64 {
	return uint64(binary.BigEndian.Uint16(src[0:])) + uint64(binary.BigEndian.Uint16(src[2:])) +
		uint64(binary.BigEndian.Uint16(dst[0:])) + uint64(binary.BigEndian.Uint16(dst[2:])) +
		uint64(proto) + uint64(length)
}

// PseudoSum6 returns the sum of the IPv6 pseudo-header (RFC 8200 §8.1).
func PseudoSum6(src, dst *[16]byte, proto uint8, length int) uint64 {
	s := Sum(src[:], 0)
	s = Sum(dst[:], s)
	return s + uint64(length) + uint64(proto)
}

// UpdateChecksum returns the checksum after a 16-bit field changed from
// old to new (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
func UpdateChecksum(cksum, old, new uint16) uint16 {
	s := uint32(^cksum) + uint32(^old) + uint32(new)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return ^uint16(s)
}

// UpdateChecksum32 is UpdateChecksum for a 32-bit field (an IPv4 address).
func UpdateChecksum32(cksum uint16, old, new uint32) uint16 {
	cksum = UpdateChecksum(cksum, uint16(old>>16), uint16(new>>16))
	return UpdateChecksum(cksum, uint16(old), uint16(new))
}
