package engine

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// tokenBucket limits ICMP errors per core (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
type tokenBucket struct {
	rate, burst, tokens int64
	last                int64
}

func (t *tokenBucket) init(rate int) {
	if rate < 0 {
		return // no ICMP errors at all
	}
	t.rate = int64(rate)
	t.burst = max(t.rate/10, 10)
	t.tokens = t.burst
}

func (t *tokenBucket) refill(now int64) {
	if t.rate == 0 {
		return
	}
	if add := (now - t.last) * t.rate / 1e9; add > 0 {
		t.tokens = min(t.burst, t.tokens+add)
		t.last = now
	}
}

func (t *tokenBucket) take() bool {
	if t.tokens <= 0 {
		return false
	}
	t.tokens--
	return true
}

// decTTL decrements TTL / hop limit of a packet being forwarded; at 1 or
// less it sends time-exceeded and drops the packet (RFC 1812 §5.3.1).
func (c *core) decTTL(b *pkt.Buf) bool {
	data := b.Bytes()
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		if ip.TTL() <= 1 {
			c.icmpError(b, hdr.ICMPv4TimeExceeded, 0, 0)
			c.ctx.Drop(b, stats.ReasonTTLExceeded)
			return false
		}
		ip.DecTTL()
	} else {
		ip := hdr.IPv6(data)
		if ip.HopLimit() <= 1 {
			c.icmpError(b, hdr.ICMPv6TimeExceeded, 0, 0)
			c.ctx.Drop(b, stats.ReasonTTLExceeded)
			return false
		}
		ip.SetHopLimit(ip.HopLimit() - 1)
	}
	b.Meta.Flags |= pkt.FlagForwarded
	c.stats.AddForwarded(1)
	return true
}

// ICMP error sizes: RFC 1812 §4.3.2.3 (576 bytes) and RFC 4443 §2.4(c)
// (the minimum IPv6 MTU, 1280 bytes).
const (
	icmp4MaxLen = 576
	icmp6MaxLen = 1280
)

// icmpError sends an ICMP or ICMPv6 error about orig (which the caller
// still owns) to its source, unless the rules forbid one or the rate
// limiter says no. typ and code are of orig's family; rest is the
// rest-of-header word (MTU for fragmentation-needed / packet-too-big).
func (c *core) icmpError(orig *pkt.Buf, typ, code uint8, rest uint32) {
	data := orig.Bytes()
	v4 := data[0]>>4 == 4
	if !c.icmpAllowed(orig, v4, typ) {
		c.stats.Drop(stats.ReasonICMPNotAllowed)
		return
	}
	if !c.icmp.take() {
		c.stats.Drop(stats.ReasonICMPRateLimited)
		return
	}
	ifc := &c.t.ifaces[orig.Meta.InPort]
	b := c.cache.Get()
	if b == nil {
		c.stats.Drop(stats.ReasonNoBuffer)
		return
	}
	b.Meta.RxTime = orig.Meta.RxTime
	b.Meta.InPort = orig.Meta.InPort
	if v4 {
		src, ok := ifc.v4, ifc.hasV4
		if !ok {
			src, ok = c.anyLocal4()
		}
		if !ok {
			c.cache.Put(b)
			c.stats.Drop(stats.ReasonICMPNotAllowed)
			return
		}
		quote := min(len(data), icmp4MaxLen-hdr.IPv4MinLen-hdr.ICMPLen)
		p := b.Append(hdr.IPv4MinLen + hdr.ICMPLen + quote)
		ip := hdr.IPv4(p)
		ip.SetVersionIHL(hdr.IPv4MinLen)
		ip.SetTOS(0xc0) // internetwork control
		ip.SetTotalLen(len(p))
		ip.SetID(uint16(c.ctx.Now))
		ip.SetFlagsFrag(0)
		ip.SetTTL(64)
		ip.SetProtocol(hdr.ProtoICMP)
		ip.SetSrc(src)
		ip.SetDst(hdr.IPv4(data).Src())
		ip.UpdateChecksum()
		m := hdr.ICMP(p[hdr.IPv4MinLen:])
		m.SetTypeCode(typ, code)
		m.SetRest(rest)
		copy(m[hdr.ICMPLen:], data[:quote])
		m.SetChecksum(0)
		m.SetChecksum(m.CalcChecksum(0))
	} else {
		src, ok := c.source6(ifc, hdr.IPv6(data).SrcRef())
		if !ok {
			c.cache.Put(b)
			c.stats.Drop(stats.ReasonICMPNotAllowed)
			return
		}
		quote := min(len(data), icmp6MaxLen-hdr.IPv6Len-hdr.ICMPLen)
		p := b.Append(hdr.IPv6Len + hdr.ICMPLen + quote)
		ip := hdr.IPv6(p)
		ip.SetVersionTCFlow(0, 0)
		ip.SetPayloadLen(len(p) - hdr.IPv6Len)
		ip.SetNextHeader(hdr.ProtoICMPv6)
		ip.SetHopLimit(64)
		ip.SetSrc(&src)
		ip.SetDst(hdr.IPv6(data).SrcRef())
		m := hdr.ICMP(p[hdr.IPv6Len:])
		m.SetTypeCode(typ, code)
		m.SetRest(rest)
		copy(m[hdr.ICMPLen:], data[:quote])
		m.SetChecksum(0)
		m.SetChecksum(m.CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
	}
	c.stats.AddGenerated(1)
	c.ctx.Inject(b)
}

// icmpAllowed applies RFC 1812 §4.3.2.7 and RFC 4443 §2.4(e): no errors
// about errors, about non-first fragments, about multicast or broadcast
// destinations, or to sources that do not name a single host.
func (c *core) icmpAllowed(b *pkt.Buf, v4 bool, typ uint8) bool {
	data := b.Bytes()
	off := int(b.Meta.L4Off)
	if v4 {
		ip := hdr.IPv4(data)
		if ip.FragOffset() != 0 || badSource4(ip.Src()) {
			return false
		}
		dst := ip.Dst()
		if dst[0] >= 224 {
			return false
		}
		if ip.Protocol() == hdr.ProtoICMP && off < len(data) {
			switch data[off] {
			case hdr.ICMPv4Unreachable, hdr.ICMPv4Redirect, hdr.ICMPv4TimeExceeded,
				hdr.ICMPv4ParamProblem, 4 /* source quench */ :
				return false
			}
		}
		return true
	}
	ip := hdr.IPv6(data)
	src, dst := ip.SrcRef(), ip.DstRef()
	if src[0] == 0xff || *src == [16]byte{} {
		return false
	}
	if dst[0] == 0xff && typ != hdr.ICMPv6PacketTooBig {
		return false
	}
	if b.Meta.L4Proto == hdr.ProtoICMPv6 && off < len(data) && data[off] < 128 {
		return false
	}
	if ch, ok := ip.Walk(len(data)); ok && ch.Frag != 0 &&
		(data[ch.Frag+2] != 0 || data[ch.Frag+3]&0xf8 != 0) {
		return false // non-first fragment
	}
	return true
}

func (c *core) anyLocal4() ([4]byte, bool) {
	for i := range c.t.ifaces {
		if c.t.ifaces[i].hasV4 {
			return c.t.ifaces[i].v4, true
		}
	}
	return [4]byte{}, false
}

// source6 picks the source of an ICMPv6 error: the arrival port's global
// address, or its link-local one when the destination is link-local.
func (c *core) source6(ifc *iface, to *[16]byte) ([16]byte, bool) {
	if to[0] == 0xfe && to[1]&0xc0 == 0x80 && ifc.eth {
		return ifc.linkLocal, true
	}
	if ifc.hasV6 {
		return ifc.v6, true
	}
	for i := range c.t.ifaces {
		if c.t.ifaces[i].hasV6 {
			return c.t.ifaces[i].v6, true
		}
	}
	return [16]byte{}, false
}
