// Package tunnel holds what the IPsec transforms share around the packet
// they protect: validating a bare IP packet, writing a tunnel-mode outer
// header (DF bit, TTL, RFC 6040 ECN), checking the inner packet of a
// tunnel and applying the outer ECN to it, IPv4 header checksums, and
// re-deriving a buffer's L4 hint after a transform.
//
//	encap: Len(packet) ─► transform ─► WriteOuter4 / WriteOuter6 (tunnel mode)
//	decap: Len(outer) ─► transform ─► Inner(payload, next header) ─► DecapECN ─► Relayer
//
// The AH and IPComp transforms use it; ESP keeps its own copies of the
// same rules for now.
package tunnel

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Outer are the run-time settings for a tunnel-mode outer header.
type Outer struct {
	// DFBit is net.inet.ipsec.dfbit for an IPv4 outer header: 0 clear,
	// 1 set, 2 copy from an IPv4 inner packet.
	DFBit int
	// ECN is net.inet.ipsec.ecn: RFC 6040 normal mode (off: compatibility
	// mode, outer Not-ECT, inner left alone on decap).
	ECN bool
	// TTL is the outer TTL / hop limit (DefaultTTL when 0).
	TTL uint8
}

// DefaultTTL is the outer TTL used when Outer.TTL is 0.
const DefaultTTL = 64

func (o *Outer) ttl() uint8 {
	if o.TTL == 0 {
		return DefaultTTL
	}
	return o.TTL
}

// Len validates a bare IP packet and returns its length from its header.
func Len(data []byte) (int, stats.Reason) {
	if len(data) == 0 {
		return 0, stats.ReasonIPTruncated
	}
	switch data[0] >> 4 {
	case 4:
		ip := hdr.IPv4(data)
		if !ip.IsValid(len(data)) {
			return 0, ipv4Reason(data)
		}
		return ip.TotalLen(), stats.ReasonNone
	case 6:
		ip := hdr.IPv6(data)
		if !ip.IsValid(len(data)) {
			if len(data) < hdr.IPv6Len {
				return 0, stats.ReasonIPTruncated
			}
			return 0, stats.ReasonIPBadLength
		}
		return hdr.IPv6Len + ip.PayloadLen(), stats.ReasonNone
	}
	return 0, stats.ReasonIPBadVersion
}

// ipv4Reason tells why an IPv4 header is invalid.
func ipv4Reason(data []byte) stats.Reason {
	switch {
	case len(data) < hdr.IPv4MinLen:
		return stats.ReasonIPTruncated
	case int(data[0]&0x0f)*4 < hdr.IPv4MinLen || int(data[0]&0x0f)*4 > len(data):
		return stats.ReasonIPBadHeaderLen
	case int(data[2])<<8|int(data[3]) > len(data):
		return stats.ReasonIPTruncated
	}
	return stats.ReasonIPBadLength
}

// Inner checks the inner packet of a tunnel whose next header is nh (4 or
// 41) and returns its length; a wrong version or protocol is bad-trailer.
func Inner(in []byte, nh uint8) (int, stats.Reason) {
	switch nh {
	case hdr.ProtoIPIP:
		if len(in) < hdr.IPv4MinLen {
			return 0, stats.ReasonIPTruncated
		}
		if in[0]>>4 != 4 {
			return 0, stats.ReasonBadTrailer
		}
		ip := hdr.IPv4(in)
		if !ip.IsValid(len(in)) {
			return 0, ipv4Reason(in)
		}
		if !IPv4ChecksumOK(in) {
			return 0, stats.ReasonIPBadChecksum
		}
		return ip.TotalLen(), stats.ReasonNone
	case hdr.ProtoIPv6:
		if len(in) < hdr.IPv6Len {
			return 0, stats.ReasonIPTruncated
		}
		if in[0]>>4 != 6 {
			return 0, stats.ReasonBadTrailer
		}
		ip := hdr.IPv6(in)
		if !ip.IsValid(len(in)) {
			return 0, stats.ReasonIPTruncated
		}
		return hdr.IPv6Len + ip.PayloadLen(), stats.ReasonNone
	}
	return 0, stats.ReasonBadTrailer // tunnel mode carries IP only
}

// NextHeader is the IPsec next header for a tunnelled packet p.
func NextHeader(p []byte) uint8 {
	if p[0]>>4 == 6 {
		return hdr.ProtoIPv6
	}
	return hdr.ProtoIPIP
}

// WriteOuter4 writes a 20-byte outer IPv4 header in o for the inner
// packet in; the whole packet is total bytes long with protocol proto.
func WriteOuter4(o, in []byte, src, dst [4]byte, total int, proto uint8, id uint16, opt *Outer) {
	ip := hdr.IPv4(o)
	ip.SetVersionIHL(hdr.IPv4MinLen)
	ip.SetTOS(outerTOS(TOS(in), opt.ECN))
	ip.SetTotalLen(total)
	ip.SetID(id)
	var ff uint16
	switch opt.DFBit {
	case 1:
		ff = hdr.IPv4FlagDF
	case 2:
		if in[0]>>4 == 4 && hdr.IPv4(in).DF() {
			ff = hdr.IPv4FlagDF
		}
	}
	ip.SetFlagsFrag(ff)
	ip.SetTTL(opt.ttl())
	ip.SetProtocol(proto)
	ip.SetSrc(src)
	ip.SetDst(dst)
	SetIPv4Checksum(o)
}

// WriteOuter6 writes a 40-byte outer IPv6 header in o; an IPv6 inner
// packet lends its flow label.
func WriteOuter6(o, in []byte, src, dst *[16]byte, total int, proto uint8, opt *Outer) {
	ip := hdr.IPv6(o)
	var flow uint32
	if in[0]>>4 == 6 {
		flow = hdr.IPv6(in).FlowLabel()
	}
	ip.SetVersionTCFlow(outerTOS(TOS(in), opt.ECN), flow)
	ip.SetPayloadLen(total - hdr.IPv6Len)
	ip.SetNextHeader(proto)
	ip.SetHopLimit(opt.ttl())
	ip.SetSrc(src)
	ip.SetDst(dst)
}

// TOS is the TOS / traffic class of an IPv4 or IPv6 packet.
func TOS(p []byte) uint8 {
	if p[0]>>4 == 4 {
		return hdr.IPv4(p).TOS()
	}
	return hdr.IPv6(p).TrafficClass()
}

// ECN codepoints (RFC 3168 §5) in the low two bits of TOS / traffic class.
const (
	ecnNotECT = 0
	ecnECT1   = 1
	ecnECT0   = 2
	ecnCE     = 3
	ecnMask   = 3
)

// outerTOS copies DSCP, and ECN in RFC 6040 normal mode (§4.1).
func outerTOS(inner uint8, normal bool) uint8 {
	if normal {
		return inner
	}
	return inner &^ ecnMask
}

// DecapECN applies the outer TOS to the inner packet in (RFC 6040 §4.2,
// fixing the IPv4 checksum); false means drop (CE over Not-ECT).
//
//	inner \ outer  Not-ECT  ECT(0)   ECT(1)   CE
//	Not-ECT        Not-ECT  Not-ECT  Not-ECT  drop
//	ECT(0)         ECT(0)   ECT(0)   ECT(1)   CE
//	ECT(1)         ECT(1)   ECT(1)   ECT(1)   CE
//	CE             CE       CE       CE       CE
func DecapECN(in []byte, outer uint8) bool {
	inner := TOS(in)
	o, i := outer&ecnMask, inner&ecnMask
	ecn := i
	switch {
	case i == ecnNotECT:
		if o == ecnCE {
			return false
		}
	case o == ecnCE:
		ecn = ecnCE
	case o == ecnECT1 && i == ecnECT0:
		ecn = ecnECT1
	}
	tos := inner&^ecnMask | ecn
	if tos == inner {
		return true
	}
	if in[0]>>4 == 4 {
		ip := hdr.IPv4(in)
		old := uint16(in[0])<<8 | uint16(in[1])
		ip.SetTOS(tos)
		ip.SetChecksum(hdr.UpdateChecksum(ip.Checksum(), old, uint16(in[0])<<8|uint16(tos)))
	} else {
		hdr.IPv6(in).SetTrafficClass(tos)
	}
	return true
}

// ipv4Sum is the one's-complement sum of an IPv4 header without its
// checksum field.
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

// SetIPv4Checksum computes and stores the header checksum.
func SetIPv4Checksum(ip []byte) {
	binary.BigEndian.PutUint16(ip[10:], ^uint16(ipv4Sum(ip)))
}

// IPv4ChecksumOK reports whether the stored header checksum is right.
func IPv4ChecksumOK(ip []byte) bool {
	s := ipv4Sum(ip) + uint32(binary.BigEndian.Uint16(ip[10:]))
	s = s>>16 + s&0xffff
	return s == 0xffff
}

// Relayer re-derives the L4 hint of the packet now in the buffer.
func Relayer(b *pkt.Buf) stats.Reason {
	data := b.Bytes()
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		b.Meta.L4Proto, b.Meta.L4Off = ip.Protocol(), uint16(ip.HeaderLen())
		return stats.ReasonNone
	}
	c, ok := hdr.IPv6(data).Walk(len(data))
	if !ok {
		return stats.ReasonIPv6BadExtHdr
	}
	b.Meta.L4Proto, b.Meta.L4Off = c.Proto, uint16(c.Off)
	return stats.ReasonNone
}
