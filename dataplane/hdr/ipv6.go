package hdr

import "encoding/binary"

// IPv6Len is the length of the fixed IPv6 header.
const IPv6Len = 40

// IPv6 is the fixed IPv6 header (RFC 8200).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	|                  Source Address (16 bytes)                    |
//	|               Destination Address (16 bytes)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv6 []byte

// IsValid reports whether n bytes hold an IPv6 header whose payload
// length fits in n.
func (ip IPv6) IsValid(n int) bool {
	return n <= len(ip) && n >= IPv6Len && ip[0]>>4 == 6 &&
		IPv6Len+int(binary.BigEndian.Uint16(ip[4:])) <= n
}

// TrafficClass returns the traffic class (DSCP and ECN).
func (ip IPv6) TrafficClass() uint8 { return ip[0]<<4 | ip[1]>>4 }

// FlowLabel returns the flow label.
func (ip IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(ip[0:]) & 0x000fffff }

// PayloadLen returns the payload length field.
func (ip IPv6) PayloadLen() int { return int(binary.BigEndian.Uint16(ip[4:])) }

// NextHeader returns the next header field of the fixed header.
func (ip IPv6) NextHeader() uint8 { return ip[6] }

// HopLimit returns the hop limit.
func (ip IPv6) HopLimit() uint8 { return ip[7] }

// Src returns the source address.
func (ip IPv6) Src() (a [16]byte) { copy(a[:], ip[8:24]); return }

// Dst returns the destination address.
func (ip IPv6) Dst() (a [16]byte) { copy(a[:], ip[24:40]); return }

// SrcRef returns a pointer to the source address bytes in the packet.
func (ip IPv6) SrcRef() *[16]byte { return (*[16]byte)(ip[8:24]) }

// DstRef returns a pointer to the destination address bytes in the packet.
func (ip IPv6) DstRef() *[16]byte { return (*[16]byte)(ip[24:40]) }

// SetVersionTCFlow writes version 6, the traffic class and flow label.
func (ip IPv6) SetVersionTCFlow(tc uint8, flow uint32) {
	binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(tc)<<20|flow&0x000fffff)
}

// SetTrafficClass sets the traffic class keeping the flow label.
func (ip IPv6) SetTrafficClass(tc uint8) { ip.SetVersionTCFlow(tc, ip.FlowLabel()) }

// SetPayloadLen sets the payload length.
func (ip IPv6) SetPayloadLen(n int) { binary.BigEndian.PutUint16(ip[4:], uint16(n)) }

// SetNextHeader sets the fixed header's next header field.
func (ip IPv6) SetNextHeader(p uint8) { ip[6] = p }

// SetHopLimit sets the hop limit.
func (ip IPv6) SetHopLimit(h uint8) { ip[7] = h }

// SetSrc sets the source address.
func (ip IPv6) SetSrc(a *[16]byte) { copy(ip[8:24], a[:]) }

// SetDst sets the destination address.
func (ip IPv6) SetDst(a *[16]byte) { copy(ip[24:40], a[:]) }

// PseudoSum returns the pseudo-header sum for an upper-layer packet of n bytes.
func (ip IPv6) PseudoSum(proto uint8, n int) uint64 {
	return PseudoSum6(ip.SrcRef(), ip.DstRef(), proto, n)
}

// IsExtension reports whether proto is an IPv6 extension header that the
// walker steps over (AH and ESP are not: they end the plain chain).
func IsExtension(proto uint8) bool {
	switch proto {
	case ProtoHopByHop, ProtoRouting, ProtoFragment, ProtoDstOpts,
		ProtoMobility, ProtoHIP, ProtoShim6, ProtoReserved1, ProtoReserved2:
		return true
	}
	return false
}

// Chain is the result of walking the extension headers.
type Chain struct {
	Proto   uint8 // upper-layer protocol (or ESP/AH/NoNext)
	Off     int   // offset of the upper-layer header
	NextOff int   // offset of the next-header field that names Proto
	// Frag is the offset of the fragment header (0: none).
	Frag int
	// Unfragmentable is the end of the headers that must precede ESP/AH
	// in transport mode (hop-by-hop, routing, fragment and destination
	// options before a routing header; RFC 4303 §3.1.1), and InsertNext
	// the offset of the next-header field to patch when inserting there.
	Unfragmentable int
	InsertNext     int
	N              int // number of extension headers
}

// maxExtHeaders bounds the walk so crafted packets cannot make it long.
const maxExtHeaders = 16

// Walk follows the extension headers of a valid packet of n bytes. It
// stops at the first non-extension header (upper layer, ESP, AH, NoNext)
// or at a non-first fragment, and reports false on malformed chains.
func (ip IPv6) Walk(n int) (c Chain, ok bool) {
	proto := ip.NextHeader()
	off, nextOff := IPv6Len, 6
	c.Unfragmentable, c.InsertNext = IPv6Len, 6
	sawRouting := false
	for IsExtension(proto) {
		if c.N == maxExtHeaders || off+8 > n {
			return c, false
		}
		var l int
		switch proto {
		case ProtoFragment:
			l = 8
			c.Frag = off
		default:
			l = (int(ip[off+1]) + 1) * 8
		}
		if proto == ProtoHopByHop && off != IPv6Len {
			return c, false // RFC 8200 §4.3: only right after the header
		}
		if off+l > n {
			return c, false
		}
		switch proto {
		case ProtoHopByHop, ProtoRouting, ProtoFragment:
			c.Unfragmentable, c.InsertNext = off+l, off
		case ProtoDstOpts:
			if !sawRouting && hasRoutingAfter(ip, off, l, n) {
				c.Unfragmentable, c.InsertNext = off+l, off
			}
		}
		if proto == ProtoRouting {
			sawRouting = true
		}
		c.N++
		nextOff = off
		next := ip[off]
		if proto == ProtoFragment && binary.BigEndian.Uint16(ip[off+2:])&0xfff8 != 0 {
			// Non-first fragment: the rest is not parseable.
			c.Proto, c.Off, c.NextOff = next, off+l, nextOff
			return c, true
		}
		proto, off = next, off+l
	}
	c.Proto, c.Off, c.NextOff = proto, off, nextOff
	return c, true
}

// hasRoutingAfter reports whether a routing header follows the
// destination options header at off (then those options belong before ESP).
func hasRoutingAfter(ip IPv6, off, l, n int) bool {
	return off+l+2 <= n && ip[off] == ProtoRouting
}

// Options walks the TLV options of a hop-by-hop or destination options
// header ext (its whole bytes) and calls fn for each; false when malformed.
func Options(ext []byte, fn func(typ uint8, opt []byte) bool) bool {
	if len(ext) < 2 {
		return false
	}
	opts := ext[2:]
	for len(opts) > 0 {
		t := opts[0]
		if t == 0 { // Pad1
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
			return false
		}
		l := 2 + int(opts[1])
		if !fn(t, opts[:l]) {
			return true
		}
		opts = opts[l:]
	}
	return true
}
