package hdr

import "encoding/binary"

// UDPLen is the length of a UDP header.
const UDPLen = 8

// UDP is a UDP header (RFC 768).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	|            Length             |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type UDP []byte

// IsValid reports whether n bytes hold a UDP header whose length field
// fits in n.
func (u UDP) IsValid(n int) bool {
	if n > len(u) || n < UDPLen {
		return false
	}
	l := int(binary.BigEndian.Uint16(u[4:]))
	return l >= UDPLen && l <= n
}

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(u[0:]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return binary.BigEndian.Uint16(u[2:]) }

// Length returns the length field.
func (u UDP) Length() int { return int(binary.BigEndian.Uint16(u[4:])) }

// Checksum returns the checksum field.
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:]) }

// SetSrcPort sets the source port.
func (u UDP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(u[0:], p) }

// SetDstPort sets the destination port.
func (u UDP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(u[2:], p) }

// SetLength sets the length field.
func (u UDP) SetLength(n int) { binary.BigEndian.PutUint16(u[4:], uint16(n)) }

// SetChecksum sets the checksum field.
func (u UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(u[6:], c) }

// CalcChecksum computes the checksum of the datagram u[:Length()] given
// the pseudo-header sum; 0 is sent as 0xffff (RFC 768).
func (u UDP) CalcChecksum(pseudo uint64) uint16 {
	s := Sum(u[:6], pseudo)
	c := ^Fold(Sum(u[8:u.Length()], s))
	if c == 0 {
		c = 0xffff
	}
	return c
}

// TCPMinLen is the length of a TCP header without options.
const TCPMinLen = 20

// TCP is a TCP header (RFC 9293); the router reads ports and fixes
// checksums, nothing else.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	|                        Sequence Number                        |
//	|                    Acknowledgment Number                      |
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TCP []byte

// IsValid reports whether n bytes hold a TCP header with its options.
func (t TCP) IsValid(n int) bool {
	if n > len(t) || n < TCPMinLen {
		return false
	}
	hl := int(t[12]>>4) * 4
	return hl >= TCPMinLen && hl <= n
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:]) }

// HeaderLen returns the header length in bytes.
func (t TCP) HeaderLen() int { return int(t[12]>>4) * 4 }

// Flags returns the flag bits.
func (t TCP) Flags() uint8 { return t[13] }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:]) }

// SetChecksum sets the checksum field.
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[16:], c) }

// ICMPLen is the length of the ICMP/ICMPv6 header including the 4-byte
// rest-of-header word.
const ICMPLen = 8

// ICMPv4 types and codes the router uses.
const (
	ICMPv4EchoReply      = 0
	ICMPv4Unreachable    = 3
	ICMPv4Redirect       = 5
	ICMPv4EchoRequest    = 8
	ICMPv4TimeExceeded   = 11
	ICMPv4ParamProblem   = 12
	ICMPv4CodeNetUnreach = 0
	ICMPv4CodeHostUnrch  = 1
	ICMPv4CodePortUnrch  = 3
	ICMPv4CodeFragNeeded = 4
	ICMPv4CodeAdminProhb = 13
)

// ICMP is an ICMPv4 or ICMPv6 header: type, code, checksum and the 4-byte
// rest of header (echo id/sequence, MTU, pointer).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	|                     Rest of Header                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ICMP []byte

// IsValid reports whether n bytes hold an ICMP header.
func (c ICMP) IsValid(n int) bool { return n >= ICMPLen && len(c) >= n }

// Type returns the message type.
func (c ICMP) Type() uint8 { return c[0] }

// Code returns the message code.
func (c ICMP) Code() uint8 { return c[1] }

// Checksum returns the checksum field.
func (c ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(c[2:]) }

// Rest returns the 4-byte rest-of-header word.
func (c ICMP) Rest() uint32 { return binary.BigEndian.Uint32(c[4:]) }

// ID returns the echo identifier.
func (c ICMP) ID() uint16 { return binary.BigEndian.Uint16(c[4:]) }

// Seq returns the echo sequence number.
func (c ICMP) Seq() uint16 { return binary.BigEndian.Uint16(c[6:]) }

// SetTypeCode sets the type and code.
func (c ICMP) SetTypeCode(t, code uint8) { c[0], c[1] = t, code }

// SetChecksum sets the checksum field.
func (c ICMP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(c[2:], v) }

// SetRest sets the rest-of-header word.
func (c ICMP) SetRest(v uint32) { binary.BigEndian.PutUint32(c[4:], v) }

// CalcChecksum computes the checksum over the whole message c; pseudo is 0
// for ICMPv4 and the pseudo-header sum for ICMPv6.
func (c ICMP) CalcChecksum(pseudo uint64) uint16 {
	s := Sum(c[:2], pseudo)
	return ^Fold(Sum(c[4:], s))
}

// ChecksumValid reports whether the checksum over message c is right.
func (c ICMP) ChecksumValid(pseudo uint64) bool { return Fold(Sum(c, pseudo)) == 0xffff }
