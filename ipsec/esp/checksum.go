package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// ipv4Sum is the one's-complement sum of an IPv4 header without its
// checksum field, unrolled for the common 20-byte header (hdr.Sum's
// general loop costs more than the rest of building an outer header).
func ipv4Sum(ip []byte) uint32 {
	_ = ip[19]
	be := binary.BigEndian
	s := uint32(be.Uint16(ip[0:])) + uint32(be.Uint16(ip[2:])) + uint32(be.Uint16(ip[4:])) +
		uint32(be.Uint16(ip[6:])) + uint32(be.Uint16(ip[8:])) + uint32(be.Uint16(ip[12:])) +
		uint32(be.Uint16(ip[14:])) + uint32(be.Uint16(ip[16:])) + uint32(be.Uint16(ip[18:]))
	if hl := int(ip[0]&0x0f) * 4; hl > hdr.IPv4MinLen {
		s += uint32(hdr.Fold(hdr.Sum(ip[hdr.IPv4MinLen:hl], 0)))
	}
	s = s>>16 + s&0xffff
	return s>>16 + s&0xffff
}

// setIPv4Checksum computes and stores the header checksum.
func setIPv4Checksum(ip []byte) {
	binary.BigEndian.PutUint16(ip[10:], ^uint16(ipv4Sum(ip)))
}

// ipv4ChecksumOK reports whether the stored header checksum is right.
func ipv4ChecksumOK(ip []byte) bool {
	s := ipv4Sum(ip) + uint32(binary.BigEndian.Uint16(ip[10:]))
	s = s>>16 + s&0xffff
	return s == 0xffff
}
