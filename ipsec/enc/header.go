package enc

import "encoding/binary"

// LinkType is LINKTYPE_ENC: each record starts with OpenBSD's
// struct enchdr { uint32 af; uint32 spi; uint32 flags; }.
const LinkType = 109

// HeaderLen is the size of the enc header.
const HeaderLen = 12

// Address family numbers of the enc header (OpenBSD's, which Wireshark
// and tcpdump decode).
const (
	afInet  = 2
	afInet6 = 24
)

// Header writes p's enc header to dst (HeaderLen bytes), every field in
// network byte order as Wireshark's ENC dissector reads it (tcpdump
// accepts either order for af and flags).
func (p *Packet) Header(dst []byte) {
	af := uint32(afInet)
	if len(p.Data) > 0 && p.Data[0]>>4 == 6 {
		af = afInet6
	}
	binary.BigEndian.PutUint32(dst[0:], af)
	binary.BigEndian.PutUint32(dst[4:], p.SPI)
	binary.BigEndian.PutUint32(dst[8:], p.Flags)
}
