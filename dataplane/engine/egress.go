package engine

import (
	"encoding/binary"
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// route looks up the next hop of an IP packet, enforces the port's MTU
// and hands the packet to neighbour resolution.
func (c *core) route(b *pkt.Buf) {
	data := b.Bytes()
	if len(data) < hdr.IPv4MinLen {
		c.ctx.Drop(b, stats.ReasonIPTruncated)
		return
	}
	var (
		nh   *nexthop
		ok   bool
		next netip.Addr
	)
	if data[0]>>4 == 4 {
		dst := hdr.IPv4(data).Dst()
		if nh, ok = c.t.lookup4(dst); ok {
			next = nh.via
			if !next.IsValid() {
				next = netip.AddrFrom4(dst)
			}
		}
	} else {
		dst := hdr.IPv6(data).DstRef()
		if nh, ok = c.t.lookup6(dst); ok {
			next = nh.via
			if !next.IsValid() {
				next = netip.AddrFrom16(*dst)
			}
		}
	}
	if !ok {
		c.unreachable(b)
		return
	}
	if c.t.ifaces[nh.port].port == nil {
		c.ctx.Drop(b, stats.ReasonPortDown)
		return
	}
	if mtu := c.t.ifaces[nh.port].mtu; b.Len() > mtu {
		c.tooBig(b, nh.port, mtu, next)
		return
	}
	c.resolve(b, nh.port, next)
}

// unreachable answers a packet with no route: ICMP destination
// unreachable (net / no route) and a counted drop.
func (c *core) unreachable(b *pkt.Buf) {
	if b.Meta.Flags&pkt.FlagLocalOrigin == 0 {
		if b.Bytes()[0]>>4 == 4 {
			c.icmpError(b, hdr.ICMPv4Unreachable, hdr.ICMPv4CodeNetUnreach, 0)
		} else {
			c.icmpError(b, hdr.ICMPv6Unreachable, hdr.ICMPv6CodeNoRoute, 0)
		}
	}
	c.ctx.Drop(b, stats.ReasonNoRoute)
}

// tooBig handles a packet larger than the port's MTU: IPv4 without DF
// and packets the router itself originated (or encapsulated) are
// fragmented; otherwise the source gets fragmentation-needed /
// packet-too-big with the MTU (RFC 1191, RFC 8201).
func (c *core) tooBig(b *pkt.Buf, port, mtu int, next netip.Addr) {
	ours := b.Meta.Flags&(pkt.FlagLocalOrigin|pkt.FlagEncapsulated) != 0
	if b.Bytes()[0]>>4 == 4 {
		if !hdr.IPv4(b.Bytes()).DF() {
			c.fragment4(b, port, mtu, next)
			return
		}
		if !ours {
			c.icmpError(b, hdr.ICMPv4Unreachable, hdr.ICMPv4CodeFragNeeded, uint32(mtu&0xffff))
		}
		c.ctx.Drop(b, stats.ReasonFragNeeded)
		return
	}
	if ours {
		c.fragment6(b, port, mtu, next)
		return
	}
	c.icmpError(b, hdr.ICMPv6PacketTooBig, 0, uint32(mtu))
	c.ctx.Drop(b, stats.ReasonFragNeeded)
}

// fragment4 splits an IPv4 packet into fragments of at most mtu bytes
// (RFC 791): the first carries all options, the rest only those with the
// copy flag.
func (c *core) fragment4(b *pkt.Buf, port, mtu int, next netip.Addr) {
	ip := hdr.IPv4(b.Bytes())
	hl := ip.HeaderLen()
	var later [60]byte
	copy(later[:hdr.IPv4MinLen], ip[:hdr.IPv4MinLen])
	lhl := hdr.IPv4MinLen
	ip.WalkOptions(func(typ uint8, opt []byte) bool {
		if typ&0x80 != 0 {
			lhl += copy(later[lhl:], opt)
		}
		return true
	})
	for lhl%4 != 0 {
		later[lhl] = hdr.IPv4OptEnd
		lhl++
	}
	payload := ip.Payload()
	ff := ip.FlagsFrag()
	base := int(ff & hdr.IPv4FragOffMask) // in 8-byte units
	origMF := ff&hdr.IPv4FlagMF != 0
	if (mtu-hl)&^7 <= 0 || (mtu-lhl)&^7 <= 0 {
		c.ctx.Drop(b, stats.ReasonFragFailed)
		return
	}
	for off := 0; off < len(payload); {
		h, head := hl, []byte(ip[:hl])
		if off > 0 {
			h, head = lhl, later[:lhl]
		}
		n := min((mtu-h)&^7, len(payload)-off)
		f := c.cache.Get()
		if f == nil {
			c.ctx.Drop(b, stats.ReasonFragFailed)
			return
		}
		p := f.Append(h + n)
		if p == nil {
			c.cache.Put(f)
			c.ctx.Drop(b, stats.ReasonFragFailed)
			return
		}
		copy(p, head)
		copy(p[h:], payload[off:off+n])
		fip := hdr.IPv4(p)
		fip.SetVersionIHL(h)
		fip.SetTotalLen(h + n)
		flags := uint16(base + off/8)
		if origMF || off+n < len(payload) {
			flags |= hdr.IPv4FlagMF
		}
		fip.SetFlagsFrag(flags)
		fip.UpdateChecksum()
		f.Meta = b.Meta
		c.resolve(f, port, next)
		off += n
	}
	c.cache.Put(b)
}

// fragment6 fragments a packet the router is the source of (RFC 8200 §4.5):
// the unfragmentable headers are repeated, a fragment header follows.
func (c *core) fragment6(b *pkt.Buf, port, mtu int, next netip.Addr) {
	data := b.Bytes()
	ch, ok := hdr.IPv6(data).Walk(len(data))
	if !ok || ch.Frag != 0 {
		c.ctx.Drop(b, stats.ReasonFragFailed)
		return
	}
	unf := ch.Unfragmentable
	chunk := (mtu - unf - 8) &^ 7
	if chunk <= 0 {
		c.ctx.Drop(b, stats.ReasonFragFailed)
		return
	}
	nextProto := data[ch.InsertNext]
	c.fragID++
	id := c.fragID<<8 | uint32(c.id&0xff)
	rest := data[unf:]
	for off := 0; off < len(rest); {
		n := min(chunk, len(rest)-off)
		f := c.cache.Get()
		if f == nil {
			c.ctx.Drop(b, stats.ReasonFragFailed)
			return
		}
		p := f.Append(unf + 8 + n)
		if p == nil {
			c.cache.Put(f)
			c.ctx.Drop(b, stats.ReasonFragFailed)
			return
		}
		copy(p, data[:unf])
		p[ch.InsertNext] = hdr.ProtoFragment
		fh := p[unf : unf+8]
		fh[0], fh[1] = nextProto, 0
		word := uint16(off)
		if off+n < len(rest) {
			word |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], word)
		binary.BigEndian.PutUint32(fh[4:], id)
		copy(p[unf+8:], rest[off:off+n])
		hdr.IPv6(p).SetPayloadLen(len(p) - hdr.IPv6Len)
		f.Meta = b.Meta
		c.resolve(f, port, next)
		off += n
	}
	c.cache.Put(b)
}

// resolve finds the link-layer address of next on port and sends b, or
// holds b and asks (ARP / neighbour solicitation) when it is unknown.
func (c *core) resolve(b *pkt.Buf, port int, next netip.Addr) {
	ifc := &c.t.ifaces[port]
	if !ifc.eth {
		c.tx[port] = append(c.tx[port], b)
		return
	}
	if ifc.host {
		c.toHost(b)
		return
	}
	if mac, ok := c.e.neigh.lookup(next, port); ok {
		c.sendL2(b, port, mac)
		return
	}
	if c.hold.shouldAsk(neighKey{next, port}, c.ctx.Now) {
		c.solicit(port, next, b)
	}
	c.hold.add(&c.ctx, held{b: b, port: port, nh: next, deadline: c.ctx.Now + c.e.cfg.NeighborTimeout})
}

// sendL2 prepends the Ethernet header (on Ethernet ports) and queues b
// on port's tx batch.
func (c *core) sendL2(b *pkt.Buf, port int, dst [6]byte) {
	ifc := &c.t.ifaces[port]
	if ifc.eth {
		etype := uint16(hdr.EtherTypeIPv6)
		if d := b.Bytes(); len(d) > 0 && d[0]>>4 == 4 {
			etype = hdr.EtherTypeIPv4
		}
		if b.Headroom() < hdr.EthernetLen && !b.Move(pkt.Headroom) {
			c.ctx.Drop(b, stats.ReasonNoBuffer)
			return
		}
		eth := hdr.Ethernet(b.Prepend(hdr.EthernetLen))
		eth.SetDst(dst)
		eth.SetSrc(ifc.mac)
		eth.SetEtherType(etype)
	}
	c.tx[port] = append(c.tx[port], b)
}
