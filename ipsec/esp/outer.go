package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
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
	p.ipID++
	tl := uint32(tunnel.OuterTOS(tunnel.TOS(in), r.opt.ECN))<<16 | uint32(total)
	w1 := uint32(p.ipID)<<16 | uint32(tunnel.DF(in, r.opt.DFBit))
	w2 := r.w2 | uint32(^tunnel.Fold32(r.sum4+uint64(tl)+uint64(w1)))
	be := binary.BigEndian
	_ = o[19]
	be.PutUint64(o[0:], uint64(ipv4VersionIHL<<24|tl)<<32|uint64(w1))
	be.PutUint64(o[8:], uint64(w2)<<32|uint64(r.src))
	be.PutUint32(o[16:], r.dst)
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
