package tunnel

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// ipv4Words is the one's-complement sum of an IPv4 header, checksum
// included, in a 64-bit accumulator: the fixed 20 bytes as five 32-bit
// words (RFC 1071 §2(B)), options through hdr.Sum, whose general loop
// costs more than the rest of building an outer header.
func ipv4Words(ip []byte) uint64 {
	s := Sum20(ip)
	if hl := int(ip[0]&0x0f) * 4; hl > hdr.IPv4MinLen {
		s = hdr.Sum(ip[hdr.IPv4MinLen:hl], s)
	}
	return s
}

// SetIPv4Checksum computes and stores the header checksum.
func SetIPv4Checksum(ip []byte) {
	// The sum without the checksum field: less the low half of the word
	// at offset 8.
	binary.BigEndian.PutUint16(ip[10:], ^hdr.Fold(ipv4Words(ip)-uint64(binary.BigEndian.Uint16(ip[10:]))))
}

// IPv4ChecksumOK reports whether the stored header checksum is right.
func IPv4ChecksumOK(ip []byte) bool {
	if ip[0]&0x0f != hdr.IPv4MinLen/4 {
		return hdr.Fold(ipv4Words(ip)) == 0xffff
	}
	return Fold32(Sum20(ip)) == 0xffff
}

// Sum20 adds the 20 bytes of an IPv4 header without options as five
// 32-bit words (small enough to inline: the hot paths check or build the
// common header with it in registers).
func Sum20(ip []byte) uint64 {
	_ = ip[19]
	be := binary.BigEndian
	return uint64(be.Uint32(ip[0:])) + uint64(be.Uint32(ip[4:])) + uint64(be.Uint32(ip[8:])) +
		uint64(be.Uint32(ip[12:])) + uint64(be.Uint32(ip[16:]))
}

// Fold32 folds a sum of a few 32-bit words (below 2^35) to 16 bits.
func Fold32(s uint64) uint16 {
	s = s>>32 + s&0xffffffff // < 2^32 + 8
	s = s>>16 + s&0xffff     // < 2^17
	s = s>>16 + s&0xffff     // <= 0x10000
	return uint16(s>>16 + s&0xffff)
}
