package esp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// writeOuter4 writes the tunnel-mode outer IPv4 header in o[:20] for the
// inner packet in, total bytes long with protocol proto.
func (p *Processor) writeOuter4(o, in []byte, sa *sad.SA, total int, proto uint8, opt *Options) {
	ip := hdr.IPv4(o)
	ip.SetVersionIHL(hdr.IPv4MinLen)
	ip.SetTOS(outerTOS(innerTOS(in), opt.ECN))
	ip.SetTotalLen(total)
	p.ipID++
	ip.SetID(p.ipID)
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
	ip.SetTTL(ttl(opt))
	ip.SetProtocol(proto)
	ip.SetSrc(sa.Src.As4())
	ip.SetDst(sa.Dst.As4())
	setIPv4Checksum(o)
}

// writeOuter6 writes the tunnel-mode outer IPv6 header in o[:40]; an IPv6
// inner packet lends its flow label.
func writeOuter6(o, in []byte, sa *sad.SA, total int, proto uint8, opt *Options) {
	ip := hdr.IPv6(o)
	var flow uint32
	if in[0]>>4 == 6 {
		flow = hdr.IPv6(in).FlowLabel()
	}
	ip.SetVersionTCFlow(outerTOS(innerTOS(in), opt.ECN), flow)
	ip.SetPayloadLen(total - hdr.IPv6Len)
	ip.SetNextHeader(proto)
	ip.SetHopLimit(ttl(opt))
	src, dst := sa.Src.As16(), sa.Dst.As16()
	ip.SetSrc(&src)
	ip.SetDst(&dst)
}

// innerTOS is the TOS / traffic class of an IPv4 or IPv6 packet.
func innerTOS(in []byte) uint8 {
	if in[0]>>4 == 4 {
		return hdr.IPv4(in).TOS()
	}
	return hdr.IPv6(in).TrafficClass()
}

func ttl(opt *Options) uint8 {
	if opt.TTL == 0 {
		return DefaultTTL
	}
	return opt.TTL
}

// writeUDP writes the NAT-T UDP header (RFC 3948 §2.1) for length bytes of
// UDP; the checksum is 0 (IPv4) or filled in after sealing (IPv6).
func writeUDP(u []byte, sa *sad.SA, length int) {
	h := hdr.UDP(u)
	h.SetSrcPort(sa.NATTSport)
	h.SetDstPort(sa.NATTDport)
	h.SetLength(length)
	h.SetChecksum(0)
}

// udpChecksum6 fills in the UDP checksum of the IPv6 packet data whose
// UDP header is at off (RFC 6935/6936: ESP-in-UDP over IPv6 keeps a real
// checksum). The pseudo-header takes the destination in the fixed header.
func udpChecksum6(data []byte, off int) {
	u := hdr.UDP(data[off:])
	u.SetChecksum(u.CalcChecksum(hdr.IPv6(data).PseudoSum(hdr.ProtoUDP, u.Length())))
}
