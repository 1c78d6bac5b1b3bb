package engine

import (
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// ingress strips the L2 header, answers ARP, validates the IP header and
// classifies the packet. It reports false when it consumed the packet.
func (c *core) ingress(b *pkt.Buf, in int) bool {
	ifc := &c.t.ifaces[in]
	if ifc.eth {
		eth := hdr.Ethernet(b.Bytes())
		etype, off, vlan, ok := eth.PayloadType()
		if !ok {
			c.ctx.Drop(b, stats.ReasonRuntFrame)
			return false
		}
		if vlan != 0 {
			c.ctx.Drop(b, stats.ReasonVLANUnsupported)
			return false
		}
		dst := eth.Dst()
		if dst != ifc.mac && !hdr.IsMulticastMAC(dst) && !ifc.host {
			c.ctx.Drop(b, stats.ReasonNotForUs)
			return false
		}
		switch etype {
		case hdr.EtherTypeARP:
			c.handleARP(b, in, off)
			return false
		case hdr.EtherTypeIPv4, hdr.EtherTypeIPv6:
			b.TrimFront(off)
		default:
			c.ctx.Drop(b, stats.ReasonBadEtherType)
			return false
		}
	}
	if !c.checkIP(b) {
		return false
	}
	return c.classify(b)
}

// checkIP validates the IP header, trims link padding and records the
// upper-layer protocol. It drops and reports false on bad packets.
func (c *core) checkIP(b *pkt.Buf) bool {
	data := b.Bytes()
	if len(data) == 0 {
		c.ctx.Drop(b, stats.ReasonIPTruncated)
		return false
	}
	switch data[0] >> 4 {
	case 4:
		return c.checkIPv4(b, data)
	case 6:
		return c.checkIPv6(b, data)
	}
	c.ctx.Drop(b, stats.ReasonIPBadVersion)
	return false
}

func (c *core) checkIPv4(b *pkt.Buf, data []byte) bool {
	ip := hdr.IPv4(data)
	if !ip.IsValid(len(data)) {
		c.ctx.Drop(b, ipv4Reason(data))
		return false
	}
	if !ip.ChecksumValid() {
		c.ctx.Drop(b, stats.ReasonIPBadChecksum)
		return false
	}
	b.SetLen(ip.TotalLen()) // drop Ethernet padding
	src, dst := ip.Src(), ip.Dst()
	if badSource4(src) {
		c.ctx.Drop(b, stats.ReasonIPBadSource)
		return false
	}
	if dst[0] == 127 || dst == [4]byte{} {
		c.ctx.Drop(b, stats.ReasonIPBadDest)
		return false
	}
	if ip.HeaderLen() > hdr.IPv4MinLen && !optionsAllowed(ip) {
		c.ctx.Drop(b, stats.ReasonIPOptions)
		return false
	}
	b.Meta.L4Proto, b.Meta.L4Off = ip.Protocol(), uint16(ip.HeaderLen())
	return true
}

// relayer re-derives the upper-layer protocol and offset of a packet
// whose headers changed (a reassembled datagram).
func (c *core) relayer(b *pkt.Buf) bool {
	data := b.Bytes()
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		b.Meta.L4Proto, b.Meta.L4Off = ip.Protocol(), uint16(ip.HeaderLen())
		return true
	}
	ch, ok := hdr.IPv6(data).Walk(len(data))
	if !ok {
		c.ctx.Drop(b, stats.ReasonIPv6BadExtHdr)
		return false
	}
	b.Meta.L4Proto, b.Meta.L4Off = ch.Proto, uint16(ch.Off)
	return true
}

// ipv4Reason tells why an IPv4 header is invalid.
func ipv4Reason(data []byte) stats.Reason {
	switch {
	case len(data) < hdr.IPv4MinLen:
		return stats.ReasonIPTruncated
	case int(data[0]&0x0f)*4 < hdr.IPv4MinLen || int(data[0]&0x0f)*4 > len(data):
		return stats.ReasonIPBadHeaderLen
	}
	return stats.ReasonIPBadLength
}

// badSource4 reports martian IPv4 sources (RFC 1812 §5.3.7).
func badSource4(a [4]byte) bool {
	return a[0] == 127 || a[0] >= 224 || a == [4]byte{}
}

// optionsAllowed refuses malformed options and source routing (RFC 7126).
func optionsAllowed(ip hdr.IPv4) bool {
	ok := true
	valid := ip.WalkOptions(func(typ uint8, _ []byte) bool {
		if typ == hdr.IPv4OptLSRR || typ == hdr.IPv4OptSSRR {
			ok = false
		}
		return ok
	})
	return valid && ok
}

func (c *core) checkIPv6(b *pkt.Buf, data []byte) bool {
	ip := hdr.IPv6(data)
	if !ip.IsValid(len(data)) {
		if len(data) < hdr.IPv6Len {
			c.ctx.Drop(b, stats.ReasonIPTruncated)
		} else {
			c.ctx.Drop(b, stats.ReasonIPBadLength)
		}
		return false
	}
	if ip.PayloadLen() == 0 && ip.NextHeader() == hdr.ProtoHopByHop {
		c.ctx.Drop(b, stats.ReasonIPBadLength) // jumbogram: not supported
		return false
	}
	b.SetLen(hdr.IPv6Len + ip.PayloadLen())
	src, dst := ip.SrcRef(), ip.DstRef()
	if src[0] == 0xff || isLoopback6(src) {
		c.ctx.Drop(b, stats.ReasonIPBadSource)
		return false
	}
	if isLoopback6(dst) || *dst == [16]byte{} {
		c.ctx.Drop(b, stats.ReasonIPBadDest)
		return false
	}
	ch, ok := ip.Walk(b.Len())
	if !ok {
		c.ctx.Drop(b, stats.ReasonIPv6BadExtHdr)
		return false
	}
	b.Meta.L4Proto, b.Meta.L4Off = ch.Proto, uint16(ch.Off)
	return true
}

func isLoopback6(a *[16]byte) bool {
	return *a == [16]byte{15: 1}
}

// classify marks packets addressed to the router (FlagToLocal) and drops
// multicast and broadcast it does not handle. It reports false on drop.
func (c *core) classify(b *pkt.Buf) bool {
	data := b.Bytes()
	b.Meta.Flags &^= pkt.FlagToLocal
	if data[0]>>4 == 4 {
		dst := hdr.IPv4(data).Dst()
		if c.t.isLocal4(dst) {
			b.Meta.Flags |= pkt.FlagToLocal
			return true
		}
		if dst[0] >= 224 {
			c.ctx.Drop(b, stats.ReasonMulticast)
			return false
		}
		return true
	}
	dst := hdr.IPv6(data).DstRef()
	if dst[0] == 0xff {
		if c.ourMulticast6(dst, int(b.Meta.InPort)) {
			b.Meta.Flags |= pkt.FlagToLocal
			return true
		}
		c.ctx.Drop(b, stats.ReasonMulticast)
		return false
	}
	if c.t.isLocal6(dst) {
		b.Meta.Flags |= pkt.FlagToLocal
	}
	return true
}

// ourMulticast6 reports whether dst is a link-scope group the router
// listens to on port: all-nodes, all-routers, or the solicited-node group
// of one of its addresses there (any address on the host-path port).
func (c *core) ourMulticast6(dst *[16]byte, port int) bool {
	if dst[1] != 0x02 {
		return false
	}
	if *dst == allNodes || *dst == allRouters {
		return true
	}
	if !(dst[11] == 1 && dst[12] == 0xff) {
		return false
	}
	ifc := &c.t.ifaces[port]
	if ifc.host {
		return true
	}
	if sn := hdr.SolicitedNode(&ifc.linkLocal); sn == *dst {
		return true
	}
	for _, a := range ifc.addrs {
		if a.Addr().Is6() {
			a16 := a.Addr().As16()
			if hdr.SolicitedNode(&a16) == *dst {
				return true
			}
		}
	}
	return false
}

var (
	allNodes   = [16]byte{0: 0xff, 1: 0x02, 15: 1}
	allRouters = [16]byte{0: 0xff, 1: 0x02, 15: 2}
)

// handleARP answers requests for the router's addresses (every address on
// the host-path port: it proxies for the whole network) and learns
// senders, reusing the request's buffer for the reply.
func (c *core) handleARP(b *pkt.Buf, in, off int) {
	data := b.Bytes()
	a := hdr.ARP(data[off:])
	if !a.IsValid(len(data) - off) {
		c.ctx.Drop(b, stats.ReasonARPMalformed)
		return
	}
	ifc := &c.t.ifaces[in]
	sha, spa, tpa := a.SHA(), a.SPA(), a.TPA()
	port, ours := c.t.local[netip.AddrFrom4(tpa)]
	forUs := (ours && port == in) || (ifc.host && spa != tpa)
	if spa != [4]byte{} && !hdr.IsMulticastMAC(sha) {
		c.e.neigh.learn(netip.AddrFrom4(spa), in, sha, !forUs)
		if ifc.host {
			c.hostMAC = sha
		}
	}
	if a.Op() != hdr.ARPRequest || !forUs {
		if a.Op() == hdr.ARPReply {
			c.stats.AddLocal(1)
			c.cache.Put(b)
			return
		}
		c.ctx.Drop(b, stats.ReasonARPIgnored)
		return
	}
	// Turn the request into the reply in place.
	b.SetLen(off + hdr.ARPLen)
	eth := hdr.Ethernet(b.Bytes())
	eth.SetDst(sha)
	eth.SetSrc(ifc.mac)
	a.Set(hdr.ARPReply, ifc.mac, tpa, sha, spa)
	c.stats.AddLocal(1)
	c.stats.AddGenerated(1)
	c.tx[in] = append(c.tx[in], b)
}
