package engine

import (
	"encoding/binary"
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// deliverLocal handles a packet addressed to the router: neighbour
// discovery is answered here; everything else goes to the host path, or,
// without one, echo requests are answered and the rest dropped.
func (c *core) deliverLocal(b *pkt.Buf) {
	data := b.Bytes()
	if data[0]>>4 == 6 && b.Meta.L4Proto == hdr.ProtoICMPv6 {
		if off := int(b.Meta.L4Off); off+hdr.ICMPLen <= len(data) {
			switch data[off] {
			case hdr.ICMPv6NeighborSolicit, hdr.ICMPv6NeighborAdvert:
				c.handleND(b, off)
				return
			case hdr.ICMPv6RouterSolicit, hdr.ICMPv6RouterAdvert, hdr.ICMPv6Redirect:
				c.ctx.Drop(b, stats.ReasonNDIgnored)
				return
			}
		}
	}
	if c.e.cfg.HostPort >= 0 {
		c.toHost(b)
		return
	}
	if c.answerEcho(b) {
		return
	}
	c.ctx.Drop(b, stats.ReasonHostPathNone)
}

// toHost sends an IP packet to the host-path port.
func (c *core) toHost(b *pkt.Buf) {
	h := c.e.cfg.HostPort
	if h < 0 {
		c.ctx.Drop(b, stats.ReasonHostPathNone)
		return
	}
	c.stats.AddLocal(1)
	ifc := &c.t.ifaces[h]
	if !ifc.eth {
		c.tx[h] = append(c.tx[h], b)
		return
	}
	mac := c.hostMAC
	if hm, ok := ifc.port.(interface{ HostMAC() [6]byte }); ok {
		if m := hm.HostMAC(); m != ([6]byte{}) {
			mac = m
		}
	}
	if mac == ([6]byte{}) {
		mac = hdr.Broadcast
	}
	c.sendL2(b, h, mac)
}

// answerEcho turns an echo request into the reply in place and injects it
// (so policy applies to it like to any packet the router sends).
func (c *core) answerEcho(b *pkt.Buf) bool {
	data := b.Bytes()
	off := int(b.Meta.L4Off)
	if off+hdr.ICMPLen > len(data) {
		return false
	}
	msg := hdr.ICMP(data[off:])
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		if ip.Protocol() != hdr.ProtoICMP || ip.IsFragment() || msg.Type() != hdr.ICMPv4EchoRequest ||
			!msg.ChecksumValid(0) {
			return false
		}
		src, dst := ip.Src(), ip.Dst()
		ip.SetSrc(dst)
		ip.SetDst(src)
		ip.SetTTL(64)
		ip.UpdateChecksum()
		msg.SetTypeCode(hdr.ICMPv4EchoReply, 0)
		msg.SetChecksum(hdr.UpdateChecksum(msg.Checksum(), hdr.ICMPv4EchoRequest<<8, hdr.ICMPv4EchoReply<<8))
	} else {
		ip := hdr.IPv6(data)
		if b.Meta.L4Proto != hdr.ProtoICMPv6 || msg.Type() != hdr.ICMPv6EchoRequest ||
			!msg.ChecksumValid(ip.PseudoSum(hdr.ProtoICMPv6, len(data)-off)) {
			return false
		}
		src, dst := ip.Src(), ip.Dst()
		if dst[0] == 0xff {
			return false // no replies to multicast echo
		}
		ip.SetSrc(&dst)
		ip.SetDst(&src)
		ip.SetHopLimit(64)
		msg.SetTypeCode(hdr.ICMPv6EchoReply, 0)
		msg.SetChecksum(hdr.UpdateChecksum(msg.Checksum(), hdr.ICMPv6EchoRequest<<8, hdr.ICMPv6EchoReply<<8))
	}
	b.Meta.Flags = pkt.FlagLocalOrigin
	c.stats.AddLocal(1)
	c.ctx.Inject(b)
	return true
}

// handleND answers neighbour solicitations for the router's addresses and
// learns from solicitations and advertisements (RFC 4861 §7.1, §7.2).
func (c *core) handleND(b *pkt.Buf, off int) {
	data := b.Bytes()
	ip := hdr.IPv6(data)
	nd := hdr.ND(data[off:])
	in := int(b.Meta.InPort)
	ifc := &c.t.ifaces[in]
	if ip.HopLimit() != 255 || !nd.IsValid(len(data)-off) || data[off+1] != 0 ||
		!hdr.ICMP(data[off:]).ChecksumValid(ip.PseudoSum(hdr.ProtoICMPv6, len(data)-off)) {
		c.ctx.Drop(b, stats.ReasonNDMalformed)
		return
	}
	target := nd.Target()
	if target[0] == 0xff {
		c.ctx.Drop(b, stats.ReasonNDMalformed)
		return
	}
	src := ip.Src()
	unspec := src == [16]byte{}
	if data[off] == hdr.ICMPv6NeighborAdvert {
		if mac, ok := nd.LinkAddr(hdr.NDOptTargetLLA); ok {
			c.e.neigh.learn(netip.AddrFrom16(target), in, mac, false)
		}
		c.stats.AddLocal(1)
		c.cache.Put(b)
		return
	}
	// Solicitation.
	slla, hasSLLA := nd.LinkAddr(hdr.NDOptSourceLLA)
	if unspec && hasSLLA {
		c.ctx.Drop(b, stats.ReasonNDMalformed)
		return
	}
	port, ours := c.t.local[netip.AddrFrom16(target)]
	if !(ours && port == in) && !(ifc.host && target != src) {
		c.ctx.Drop(b, stats.ReasonNDIgnored)
		return
	}
	if hasSLLA {
		c.e.neigh.learn(netip.AddrFrom16(src), in, slla, false)
		if ifc.host {
			c.hostMAC = slla
		}
	}
	// Build the advertisement in the same buffer.
	dst, mac := src, slla
	flags := uint8(hdr.NAFlagRouter | hdr.NAFlagSolicited | hdr.NAFlagOverride)
	if unspec {
		dst, mac, flags = allNodes, hdr.MulticastMAC6(&allNodes), hdr.NAFlagRouter|hdr.NAFlagOverride
	} else if !hasSLLA {
		m, ok := c.e.neigh.lookup(netip.AddrFrom16(src), in)
		if !ok {
			m = hdr.MulticastMAC6(&allNodes)
		}
		mac = m
	}
	b.Reset()
	b.Meta.InPort = uint16(in)
	c.writeNA(b.Append(hdr.IPv6Len+hdr.NDLen+8), &target, &dst, flags, ifc.mac)
	c.stats.AddLocal(1)
	c.stats.AddGenerated(1)
	c.sendL2(b, in, mac)
}

// writeNA fills p (72 bytes) with a neighbour advertisement for target.
func (c *core) writeNA(p []byte, target, dst *[16]byte, flags uint8, mac [6]byte) {
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(hdr.NDLen + 8)
	ip.SetNextHeader(hdr.ProtoICMPv6)
	ip.SetHopLimit(255)
	ip.SetSrc(target)
	ip.SetDst(dst)
	m := p[hdr.IPv6Len:]
	clear(m)
	m[0] = hdr.ICMPv6NeighborAdvert
	m[4] = flags
	copy(m[8:24], target[:])
	m[24], m[25] = hdr.NDOptTargetLLA, 1
	copy(m[26:32], mac[:])
	binary.BigEndian.PutUint16(m[2:], hdr.ICMP(m).CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
}

// solicit sends an ARP request or a neighbour solicitation for nh on port.
func (c *core) solicit(port int, nh netip.Addr, like *pkt.Buf) {
	ifc := &c.t.ifaces[port]
	b := c.cache.Get()
	if b == nil {
		c.stats.Drop(stats.ReasonNoBuffer)
		return
	}
	b.Meta.RxTime = like.Meta.RxTime
	c.stats.AddGenerated(1)
	if nh.Is4() {
		spa := ifc.v4
		for _, a := range ifc.addrs {
			if a.Contains(nh) {
				spa = a.Addr().As4()
				break
			}
		}
		p := b.Append(hdr.EthernetLen + hdr.ARPLen)
		eth := hdr.Ethernet(p)
		eth.SetDst(hdr.Broadcast)
		eth.SetSrc(ifc.mac)
		eth.SetEtherType(hdr.EtherTypeARP)
		hdr.ARP(p[hdr.EthernetLen:]).Set(hdr.ARPRequest, ifc.mac, spa, [6]byte{}, nh.As4())
		c.tx[port] = append(c.tx[port], b)
		return
	}
	target := nh.As16()
	src := ifc.linkLocal
	if !nh.IsLinkLocalUnicast() {
		for _, a := range ifc.addrs {
			if a.Addr().Is6() && a.Contains(nh) {
				src = a.Addr().As16()
				break
			}
		}
	}
	dst := hdr.SolicitedNode(&target)
	p := b.Append(hdr.IPv6Len + hdr.NDLen + 8)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(hdr.NDLen + 8)
	ip.SetNextHeader(hdr.ProtoICMPv6)
	ip.SetHopLimit(255)
	ip.SetSrc(&src)
	ip.SetDst(&dst)
	m := p[hdr.IPv6Len:]
	clear(m)
	m[0] = hdr.ICMPv6NeighborSolicit
	copy(m[8:24], target[:])
	m[24], m[25] = hdr.NDOptSourceLLA, 1
	copy(m[26:32], ifc.mac[:])
	binary.BigEndian.PutUint16(m[2:], hdr.ICMP(m).CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
	c.sendL2(b, port, hdr.MulticastMAC6(&dst))
}
