package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// ipv4Sum is the one's-complement sum, folded to 16 bits, of an IPv4
// header without its checksum field. The fixed 20 bytes are added as
// 32-bit words in a 64-bit accumulator (RFC 1071 §2(B)): hdr.Sum's general
// loop costs more than the rest of building an outer header.
func ipv4Sum(ip []byte) uint32 {
	_ = ip[19]
	be := binary.BigEndian
	s := uint64(be.Uint32(ip[0:])) + uint64(be.Uint32(ip[4:])) + uint64(be.Uint16(ip[8:])) +
		uint64(be.Uint32(ip[12:])) + uint64(be.Uint32(ip[16:]))
	if hl := int(ip[0]&0x0f) * 4; hl > hdr.IPv4MinLen {
		s = hdr.Sum(ip[hdr.IPv4MinLen:hl], s)
	}
	return uint32(hdr.Fold(s))
}

// setIPv4Checksum computes and stores the header checksum.
func setIPv4Checksum(ip []byte) {
	binary.BigEndian.PutUint16(ip[10:], ^uint16(ipv4Sum(ip)))
}

// ipv4ChecksumOK reports whether the stored header checksum is right.
func ipv4ChecksumOK(ip []byte) bool {
	return hdr.Fold(uint64(ipv4Sum(ip))+uint64(binary.BigEndian.Uint16(ip[10:]))) == 0xffff
}
