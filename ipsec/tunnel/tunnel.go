// Package tunnel holds what the IPsec transforms share around the packet
// they protect: validating a bare IP packet, writing a tunnel-mode outer
// header (DF bit, TTL, RFC 6040 ECN), checking and unwrapping the inner
// packet of a tunnel, finding where a transport-mode header goes and
// fixing the lengths after, IPv4 header checksums, and re-deriving a
// buffer's L4 hint after a transform.
//
//	encap: Len(packet) ─► tunnel: WriteOuter4 / WriteOuter6 ─► transform
//	                     transport: Transport(packet) ─► transform ─► SetLength
//	decap: Len(outer) ─► transform ─► tunnel: Unwrap (Inner, DecapECN, Relayer)
//	                                  transport: SetLength ─► Relayer
//
// ESP, AH and IPComp use it. ESP builds the common IPv4 outer header in
// registers from a per-SA sum (Sum20, Fold32) rather than with WriteOuter4,
// and strips the common inner IPv4 packet inline, with the same rules.
package tunnel

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Outer are the run-time settings for a tunnel-mode outer header.
type Outer struct {
	// DFBit is net.inet.ipsec.dfbit for an IPv4 outer header: 0 clear,
	// 1 set, 2 copy from an IPv4 inner packet (clear for IPv6 inner
	// packets, which carry no DF).
	DFBit int
	// ECN is net.inet.ipsec.ecn: RFC 6040 normal mode on encap and decap
	// (off: compatibility mode, outer Not-ECT, inner left alone on decap).
	ECN bool
	// TTL is the outer TTL / hop limit (DefaultTTL when 0).
	TTL uint8
}

// DefaultTTL is the outer TTL used when Outer.TTL is 0.
const DefaultTTL = 64

// HopLimit is the outer TTL / hop limit to write: TTL, or DefaultTTL.
func (o *Outer) HopLimit() uint8 {
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
			return 0, IPv4Reason(data)
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

// IPv4Reason tells why an IPv4 header is invalid (hdr.IPv4.IsValid
// refused it).
func IPv4Reason(data []byte) stats.Reason {
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
			return 0, IPv4Reason(in)
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

// Unwrap leaves in b the inner packet of a tunnel, bytes start to end of
// the outer packet in b with next header nh: checked by Inner, given the
// outer ECN when ecn is set (RFC 6040 normal mode) and a fresh L4 hint.
func Unwrap(b *pkt.Buf, start, end int, nh uint8, ecn bool) stats.Reason {
	data := b.Bytes()
	in := data[start:end]
	n, why := Inner(in, nh)
	if why != stats.ReasonNone {
		return why
	}
	if ecn && !DecapECN(in, TOS(data)) {
		// CE on the outer header over a Not-ECT inner packet: the
		// congestion signal cannot be passed on (RFC 6040 §4.2). No reason
		// names this; bad-trailer is the closest ("inner header refused").
		return stats.ReasonBadTrailer
	}
	_, off := b.Raw()
	b.SetData(off+start, n)
	return Relayer(b)
}

// Transport finds where a transport-mode IPsec header goes in the packet
// data: after the IPv4 header with its options, or after the IPv6 headers
// that must stay unfragmentable (RFC 4303 §3.1.1, RFC 4302 §3.1.1). It
// returns the bytes of IP header kept in front and the offset of the
// next-header field to patch; fragments are refused.
func Transport(data []byte, v6 bool) (hdrLen, next int, why stats.Reason) {
	if !v6 {
		ip := hdr.IPv4(data)
		if ip.IsFragment() {
			return 0, 0, stats.ReasonIPFragment
		}
		return ip.HeaderLen(), 9, stats.ReasonNone
	}
	c, ok := hdr.IPv6(data).Walk(len(data))
	if !ok {
		return 0, 0, stats.ReasonIPv6BadExtHdr
	}
	if c.Frag != 0 {
		return 0, 0, stats.ReasonIPFragment
	}
	return c.Unfragmentable, c.InsertNext, stats.ReasonNone
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
	ip.SetTOS(OuterTOS(TOS(in), opt.ECN))
	ip.SetTotalLen(total)
	ip.SetID(id)
	ip.SetFlagsFrag(DF(in, opt.DFBit))
	ip.SetTTL(opt.HopLimit())
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
	ip.SetVersionTCFlow(OuterTOS(TOS(in), opt.ECN), flow)
	ip.SetPayloadLen(total - hdr.IPv6Len)
	ip.SetNextHeader(proto)
	ip.SetHopLimit(opt.HopLimit())
	ip.SetSrc(src)
	ip.SetDst(dst)
}

// DF is the flags word of an outer IPv4 header (no fragment offset) for
// the inner packet in under net.inet.ipsec.dfbit.
func DF(in []byte, dfBit int) uint16 {
	switch dfBit {
	case 1:
		return hdr.IPv4FlagDF
	case 2:
		if in[0]>>4 == 4 && hdr.IPv4(in).DF() {
			return hdr.IPv4FlagDF
		}
	}
	return 0
}

// SetLength stores the length of the IP packet pk in its header (IPv6
// payload length, or IPv4 total length and checksum), after a transport-
// mode transform inserted or removed its header.
func SetLength(pk []byte, v6 bool) {
	if v6 {
		hdr.IPv6(pk).SetPayloadLen(len(pk) - hdr.IPv6Len)
		return
	}
	hdr.IPv4(pk).SetTotalLen(len(pk))
	SetIPv4Checksum(pk)
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

// OuterTOS is the outer TOS / traffic class for an inner one: DSCP copied;
// ECN copied, CE included, in RFC 6040 normal mode (§4.1), Not-ECT in
// compatibility mode.
func OuterTOS(inner uint8, normal bool) uint8 {
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
