package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// ipv4VersionIHL is the first byte of an IPv4 header without options.
const ipv4VersionIHL = 4<<4 | hdr.IPv4MinLen/4

// writeOuter4 writes the tunnel-mode outer IPv4 header in o[:20] for the
// inner packet in, total bytes long. The words that change per packet
// (TOS and length, ID and flags) are added to the run's precomputed sum in
// registers and the header is stored with three writes: building it field
// by field and summing it back from memory would stall on store
// forwarding.
func (p *Processor) writeOuter4(r *encapSA, o, in []byte, total int) {
	var ff uint32
	switch r.dfBit {
	case 1:
		ff = hdr.IPv4FlagDF
	case 2:
		if in[0]>>4 == 4 && hdr.IPv4(in).DF() {
			ff = hdr.IPv4FlagDF
		}
	}
	p.ipID++
	tl := uint32(outerTOS(innerTOS(in), r.ecn))<<16 | uint32(total)
	w1 := uint32(p.ipID)<<16 | ff
	w2 := r.w2 | uint32(^fold32(r.sum4+uint64(tl)+uint64(w1)))
	be := binary.BigEndian
	_ = o[19]
	be.PutUint64(o[0:], uint64(ipv4VersionIHL<<24|tl)<<32|uint64(w1))
	be.PutUint64(o[8:], uint64(w2)<<32|uint64(r.src))
	be.PutUint32(o[16:], r.dst)
}

// writeOuter6 writes the tunnel-mode outer IPv6 header in o[:40]; an IPv6
// inner packet lends its flow label.
func writeOuter6(r *encapSA, o, in []byte, total int) {
	ip := hdr.IPv6(o)
	var flow uint32
	if in[0]>>4 == 6 {
		flow = hdr.IPv6(in).FlowLabel()
	}
	ip.SetVersionTCFlow(outerTOS(innerTOS(in), r.ecn), flow)
	ip.SetPayloadLen(total - hdr.IPv6Len)
	ip.SetNextHeader(r.proto)
	ip.SetHopLimit(r.ttl)
	src, dst := r.sa.Src.As16(), r.sa.Dst.As16()
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
