package spd

import (
	"encoding/binary"
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// Key is what a packet is classified by, built once per packet.
//
// Addresses are 16 bytes for both families; an IPv4 address occupies bytes
// 0..3 and bytes 4..15 are zero. The classifier reads each address as two
// big-endian 64-bit words, so an IPv4 address is the top half of the first
// word and a /n mask is the same shift for either family: one code path,
// and the second word of every IPv4 mask is zero (stray bytes are ignored).
type Key struct {
	Src, Dst [16]byte
	V6       bool
	Proto    uint8  // upper-layer protocol
	SrcPort  uint16 // ICMP/ICMPv6: the type; MH: the MH type
	DstPort  uint16 // ICMP/ICMPv6: the code
	// Opaque marks the ports unavailable (RFC 4301 §4.4.1.1 OPAQUE): a
	// non-first fragment, a protocol without ports, or a truncated header.
	// Only selectors whose ports are both any match it; ports are then 0.
	Opaque bool
}

// KeyFor builds a key from addresses (of one family) and ports.
func KeyFor(src, dst netip.Addr, proto uint8, sport, dport uint16) Key {
	k := Key{V6: !src.Is4(), Proto: proto, SrcPort: sport, DstPort: dport}
	if k.V6 {
		k.Src, k.Dst = src.As16(), dst.As16()
	} else {
		s, d := src.As4(), dst.As4()
		copy(k.Src[:], s[:])
		copy(k.Dst[:], d[:])
	}
	return k
}

// SrcAddr returns the source address.
func (k *Key) SrcAddr() netip.Addr { return k.addr(&k.Src) }

// DstAddr returns the destination address.
func (k *Key) DstAddr() netip.Addr { return k.addr(&k.Dst) }

func (k *Key) addr(a *[16]byte) netip.Addr {
	if k.V6 {
		return netip.AddrFrom16(*a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}

// IP protocols with ports or port-like selectors.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoICMPv6  = 58
	protoSCTP    = 132
	protoMH      = 135
	protoUDPLite = 136
)

// KeyFromPacket builds the key of a validated IPv4 or IPv6 packet whose
// upper-layer header (l4proto) starts at l4off, as the ingress classifier
// found them; l4off 0 means unknown (a packet the router made itself), and
// KeyFromPacket finds the header. Non-first fragments keep their protocol but have OPAQUE
// ports (RFC 4301 §4.4.1.1; FreeBSD instead treats the protocol as unknown
// too), so they match only policies whose ports are any. ok is false when
// ip is not an IP packet.
func KeyFromPacket(ip []byte, l4proto uint8, l4off int) (k Key, ok bool) {
	if len(ip) == 0 {
		return k, false
	}
	n := len(ip)
	frag := false
	switch ip[0] >> 4 {
	case 4:
		if n < hdr.IPv4MinLen {
			return k, false
		}
		copy(k.Src[:4], ip[12:16])
		copy(k.Dst[:4], ip[16:20])
		if tl := int(binary.BigEndian.Uint16(ip[2:])); tl < n {
			n = tl
		}
		frag = binary.BigEndian.Uint16(ip[6:])&hdr.IPv4FragOffMask != 0
		if l4off == 0 {
			l4proto, l4off = ip[9], int(ip[0]&0xf)*4
		}
	case 6:
		if n < hdr.IPv6Len {
			return k, false
		}
		k.V6 = true
		k.Src, k.Dst = [16]byte(ip[8:24]), [16]byte(ip[24:40])
		if pl := hdr.IPv6Len + int(binary.BigEndian.Uint16(ip[4:])); pl < n {
			n = pl
		}
		if l4off == 0 {
			l4proto, l4off = ip[6], -1
			if c, ok := hdr.IPv6(ip).Walk(n); ok {
				l4proto, l4off = c.Proto, c.Off
			}
		}
		if l4off > hdr.IPv6Len {
			if c, ok := hdr.IPv6(ip).Walk(n); ok && c.Frag != 0 {
				frag = binary.BigEndian.Uint16(ip[c.Frag+2:])&0xfff8 != 0
			}
		}
	default:
		return k, false
	}
	k.Proto = l4proto
	k.Opaque = true
	if frag || l4off < 0 {
		return k, true
	}
	switch l4proto {
	case protoTCP, protoUDP, protoSCTP, protoDCCP, protoUDPLite:
		if l4off+4 <= n {
			k.SrcPort = binary.BigEndian.Uint16(ip[l4off:])
			k.DstPort = binary.BigEndian.Uint16(ip[l4off+2:])
			k.Opaque = false
		}
	case protoICMP, protoICMPv6:
		if l4off+2 <= n {
			k.SrcPort, k.DstPort = uint16(ip[l4off]), uint16(ip[l4off+1])
			k.Opaque = false
		}
	case protoMH:
		if l4off+3 <= n {
			k.SrcPort = uint16(ip[l4off+2])
			k.Opaque = false
		}
	}
	return k, true
}
