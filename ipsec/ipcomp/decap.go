package ipcomp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// Decap decompresses bufs[i] with sas[i]. Each buffer holds the outer IP
// packet with its IPComp header at Meta.L4Off (Meta.L4Proto 108), or, for
// a tunnel-mode SA, a plain IP-in-IP packet (Meta.L4Proto 4 or 41) that
// the peer sent uncompressed. On success res[i] is stats.ReasonNone and
// the buffer holds the inner (tunnel) or original (transport) packet with
// a Step in Meta.History, FlagDecapsulated and a fresh L4 hint. Returns
// the number of successes.
func (p *Processor) Decap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	ok := 0
	for i, b := range bufs {
		res[i] = p.decap(b, sas[i], &opt)
		if res[i] == stats.ReasonNone {
			ok++
		}
	}
	return ok
}

func (p *Processor) decap(b *pkt.Buf, sa *sad.SA, opt *Options) stats.Reason {
	if sa == nil || sa.Comp != CPIDeflate {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	if int(b.Meta.HistoryLen) >= pkt.MaxHistory {
		return stats.ReasonTooManyHeaders
	}
	data := b.Bytes()
	end, r := tunnel.Len(data)
	if r != stats.ReasonNone {
		return r
	}
	data = data[:end]
	b.SetLen(end)
	v6 := data[0]>>4 == 6
	off := int(b.Meta.L4Off)
	minHdr := hdr.IPv4MinLen
	if v6 {
		minHdr = hdr.IPv6Len
	}
	if off < minHdr || off > end {
		return stats.ReasonIPTruncated
	}
	if !v6 && hdr.IPv4(data).IsFragment() {
		return stats.ReasonIPFragment
	}
	tun := sa.Mode == sad.ModeTunnel
	switch b.Meta.L4Proto {
	case hdr.ProtoIPComp:
	case hdr.ProtoIPIP, hdr.ProtoIPv6:
		if !tun {
			return stats.ReasonNoSA
		}
		r = p.inner(b, data, off, b.Meta.L4Proto, data[off:], opt)
		return p.finish(b, sa, r, true)
	default:
		return stats.ReasonNoSA
	}
	if off+hdr.IPCompLen > end {
		return stats.ReasonIPTruncated
	}
	c := hdr.IPComp(data[off:])
	nh := c.NextHeader()
	if sa.Mode == sad.ModeAny {
		tun = nh == hdr.ProtoIPIP || nh == hdr.ProtoIPv6
	}
	limit := maxPacket
	if opt.MaxLen > 0 {
		limit = min(limit, opt.MaxLen)
	}
	if !tun {
		limit -= off // the header stays in front
	}
	ratio := opt.MaxRatio
	if ratio <= 0 {
		ratio = DefaultMaxRatio
	}
	in := data[off+hdr.IPCompLen:]
	limit = min(limit, len(in)*ratio)
	if limit <= 0 {
		return stats.ReasonDecompress
	}
	out, ok := p.decompress(in, limit)
	if !ok {
		return stats.ReasonDecompress
	}
	if tun {
		r = p.inner(b, data, 0, nh, out, opt)
	} else {
		r = p.transport(b, data, off, nh, out, v6)
	}
	return p.finish(b, sa, r, tun)
}

// inner leaves the tunnelled packet pk (in the buffer at off, or in the
// scratch) in the buffer after RFC 6040 ECN decapsulation.
func (p *Processor) inner(b *pkt.Buf, data []byte, off int, nh uint8, pk []byte, opt *Options) stats.Reason {
	n, r := tunnel.Inner(pk, nh)
	if r != stats.ReasonNone {
		return r
	}
	pk = pk[:n]
	if opt.ECN && !tunnel.DecapECN(pk, tunnel.TOS(data)) {
		return stats.ReasonBadTrailer // CE over Not-ECT (RFC 6040 §4.2)
	}
	mem, base := b.Raw()
	if off > 0 { // already in the buffer
		b.SetData(base+off, n)
		return stats.ReasonNone
	}
	if base+n > len(mem) {
		base = 0
		if n > len(mem) {
			return stats.ReasonDecompress
		}
	}
	copy(mem[base:base+n], pk)
	b.SetData(base, n)
	return stats.ReasonNone
}

// transport puts the IP header data[:off] back in front of the payload
// pay, with the next header and lengths fixed.
func (p *Processor) transport(b *pkt.Buf, data []byte, off int, nh uint8, pay []byte, v6 bool) stats.Reason {
	mem, base := b.Raw()
	n := off + len(pay)
	if base+n > len(mem) {
		if n > len(mem) {
			return stats.ReasonDecompress
		}
		copy(mem[:off], data[:off])
		base = 0
	}
	pk := mem[base : base+n]
	copy(pk[off:], pay)
	b.SetData(base, n)
	if v6 {
		c, ok := hdr.IPv6(pk).Walk(off)
		if !ok || c.Off != off {
			return stats.ReasonIPv6BadExtHdr
		}
		pk[c.NextOff] = nh
	} else {
		pk[9] = nh
	}
	setLength(pk, v6)
	return stats.ReasonNone
}

// finish records the step of a successful decapsulation.
func (p *Processor) finish(b *pkt.Buf, sa *sad.SA, r stats.Reason, tun bool) stats.Reason {
	if r == stats.ReasonNone {
		r = tunnel.Relayer(b)
	}
	if r != stats.ReasonNone {
		return r
	}
	b.Meta.AddStep(pkt.Step{Proto: hdr.ProtoIPComp, Tunnel: tun, SPI: sa.SPI, ReqID: sa.ReqID})
	b.Meta.Flags |= pkt.FlagDecapsulated
	return stats.ReasonNone
}
