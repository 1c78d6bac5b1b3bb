package hdr

import "encoding/binary"

// ARPLen is the length of an Ethernet/IPv4 ARP packet.
const ARPLen = 28

// ARP operations.
const (
	ARPRequest = 1
	ARPReply   = 2
)

// ARP is an Ethernet/IPv4 ARP packet (RFC 826).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      HTYPE (1)                |      PTYPE (0x0800)           |
//	|  HLEN (6)     |  PLEN (4)     |      OPER                     |
//	|         SHA (6 bytes) ... SPA (4 bytes) ...                   |
//	|         THA (6 bytes) ... TPA (4 bytes)                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ARP []byte

// IsValid reports whether n bytes hold an Ethernet/IPv4 ARP packet.
func (a ARP) IsValid(n int) bool {
	return n >= ARPLen && len(a) >= ARPLen &&
		binary.BigEndian.Uint16(a[0:]) == 1 && binary.BigEndian.Uint16(a[2:]) == EtherTypeIPv4 &&
		a[4] == 6 && a[5] == 4
}

// Op returns the operation (ARPRequest or ARPReply).
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[6:]) }

// SHA returns the sender hardware address.
func (a ARP) SHA() (m [6]byte) { copy(m[:], a[8:14]); return }

// SPA returns the sender protocol address.
func (a ARP) SPA() (ip [4]byte) { copy(ip[:], a[14:18]); return }

// THA returns the target hardware address.
func (a ARP) THA() (m [6]byte) { copy(m[:], a[18:24]); return }

// TPA returns the target protocol address.
func (a ARP) TPA() (ip [4]byte) { copy(ip[:], a[24:28]); return }

// Set writes a complete Ethernet/IPv4 ARP packet.
func (a ARP) Set(op uint16, sha [6]byte, spa [4]byte, tha [6]byte, tpa [4]byte) {
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], EtherTypeIPv4)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:14], sha[:])
	copy(a[14:18], spa[:])
	copy(a[18:24], tha[:])
	copy(a[24:28], tpa[:])
}
