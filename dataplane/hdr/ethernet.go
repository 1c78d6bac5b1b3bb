package hdr

import "encoding/binary"

// EthernetLen is the length of an untagged Ethernet header.
const EthernetLen = 14

// VLANLen is the length of one 802.1Q tag.
const VLANLen = 4

// Ethernet is an Ethernet II header.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Destination MAC (6 bytes)                     |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                   Source MAC (6 bytes)                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          EtherType            |  [802.1Q: TPID 0x8100, TCI, EtherType]
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Ethernet []byte

// IsValid reports whether n bytes hold an Ethernet header.
func (e Ethernet) IsValid(n int) bool { return n >= EthernetLen && len(e) >= EthernetLen }

// Dst returns the destination MAC.
func (e Ethernet) Dst() (m [6]byte) { copy(m[:], e[0:6]); return }

// Src returns the source MAC.
func (e Ethernet) Src() (m [6]byte) { copy(m[:], e[6:12]); return }

// SetDst sets the destination MAC.
func (e Ethernet) SetDst(m [6]byte) { copy(e[0:6], m[:]) }

// SetSrc sets the source MAC.
func (e Ethernet) SetSrc(m [6]byte) { copy(e[6:12], m[:]) }

// EtherType returns the type field after the MACs (0x8100 when tagged).
func (e Ethernet) EtherType() uint16 { return binary.BigEndian.Uint16(e[12:]) }

// SetEtherType sets the type field.
func (e Ethernet) SetEtherType(t uint16) { binary.BigEndian.PutUint16(e[12:], t) }

// Tagged reports whether an 802.1Q/802.1ad tag follows the MACs.
func (e Ethernet) Tagged() bool {
	t := e.EtherType()
	return t == EtherTypeVLAN || t == EtherTypeQinQ
}

// VLAN returns the tag after the MACs; valid when Tagged and len >= 18.
func (e Ethernet) VLAN() VLAN { return VLAN(e[12:]) }

// PayloadType walks up to two VLAN tags and returns the EtherType of the
// payload, its offset and the outer VLAN id (0 when untagged); ok is false
// when the frame is too short.
func (e Ethernet) PayloadType() (etype uint16, off int, vlan uint16, ok bool) {
	if len(e) < EthernetLen {
		return 0, 0, 0, false
	}
	etype, off = e.EtherType(), EthernetLen
	for i := 0; i < 2 && (etype == EtherTypeVLAN || etype == EtherTypeQinQ); i++ {
		if len(e) < off+VLANLen {
			return 0, 0, 0, false
		}
		if i == 0 {
			vlan = binary.BigEndian.Uint16(e[off:]) & 0x0fff
		}
		etype = binary.BigEndian.Uint16(e[off+2:])
		off += VLANLen
	}
	return etype, off, vlan, true
}

// VLAN is an 802.1Q tag starting at its TPID.
type VLAN []byte

// IsValid reports whether n bytes hold a tag.
func (v VLAN) IsValid(n int) bool { return n >= VLANLen && len(v) >= VLANLen }

// TPID returns the tag protocol id (0x8100 or 0x88a8).
func (v VLAN) TPID() uint16 { return binary.BigEndian.Uint16(v[0:]) }

// ID returns the VLAN id.
func (v VLAN) ID() uint16 { return binary.BigEndian.Uint16(v[2:]) & 0x0fff }

// PCP returns the priority code point.
func (v VLAN) PCP() uint8 { return v[2] >> 5 }

// Set writes a tag with the given TPID, id and priority.
func (v VLAN) Set(tpid, id uint16, pcp uint8) {
	binary.BigEndian.PutUint16(v[0:], tpid)
	binary.BigEndian.PutUint16(v[2:], uint16(pcp)<<13|id&0x0fff)
}

// Broadcast is the Ethernet broadcast address.
var Broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsMulticastMAC reports whether m is a group address (broadcast included).
func IsMulticastMAC(m [6]byte) bool { return m[0]&1 == 1 }
