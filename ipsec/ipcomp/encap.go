package ipcomp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// Encap compresses bufs[i] with sas[i] in place. Each buffer holds a bare
// IP packet; on success res[i] is stats.ReasonNone and the buffer holds
// the IPComp packet, or the packet as it was (transport) or in plain
// IP-in-IP (tunnel) when compressing was not worth it (see Counts); else
// res[i] is the drop reason. Returns the number of successes.
func (p *Processor) Encap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	p.cnt = Counts{}
	ok := 0
	for i, b := range bufs {
		res[i] = p.encap(b, sas[i], &opt)
		if res[i] == stats.ReasonNone {
			ok++
		}
	}
	return ok
}

func (p *Processor) encap(b *pkt.Buf, sa *sad.SA, opt *Options) stats.Reason {
	if sa == nil || sa.Comp != CPIDeflate {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	data := b.Bytes()
	plen, r := tunnel.Len(data)
	if r != stats.ReasonNone {
		return r
	}
	b.SetLen(plen)
	data = data[:plen]
	v6 := data[0]>>4 == 6
	tun := sa.Mode == sad.ModeTunnel
	hl, next, nh := 0, 0, tunnel.NextHeader(data)
	if !tun {
		if hl, next, r = tunnel.Transport(data, v6); r != stats.ReasonNone {
			return r
		}
		nh = data[next]
	}
	outer := 0
	if tun {
		outer = hdr.IPv4MinLen
		if sa.Dst.Is6() {
			outer = hdr.IPv6Len
		}
	}
	payload := data[hl:]
	var comp []byte
	compressed := false
	switch {
	case len(payload) < opt.MinLen:
		p.cnt.Threshold++
	default:
		// Worth sending only when the header plus the output is smaller.
		if comp, compressed = p.compress(payload, len(payload)-hdr.IPCompLen-1, opt.Fast); !compressed {
			p.cnt.Uncompr++
		}
	}
	front := outer
	if compressed {
		front += hdr.IPCompLen
	}
	if !tun && !compressed {
		return stats.ReasonNone // the packet goes as it is
	}
	if b.Headroom() < front && !b.Move(front) {
		return stats.ReasonNoBuffer
	}
	b.Prepend(front)
	data = b.Bytes()
	in := data[front:]
	proto := uint8(hdr.ProtoIPComp)
	if !compressed {
		proto = nh
	}
	var total int
	if compressed {
		total = front + hl + len(comp)
	} else {
		total = len(data)
	}
	switch {
	case tun && sa.Dst.Is4():
		p.ipID++
		tunnel.WriteOuter4(data, in, sa.Src.As4(), sa.Dst.As4(), total, proto, p.ipID, &opt.Outer)
	case tun:
		src, dst := sa.Src.As16(), sa.Dst.As16()
		tunnel.WriteOuter6(data, in, &src, &dst, total, proto, &opt.Outer)
	default:
		copy(data[:hl], in[:hl])
		data[next] = hdr.ProtoIPComp
	}
	if compressed {
		at := outer + hl
		hdr.IPComp(data[at:]).Set(nh, CPI(sa))
		copy(data[at+hdr.IPCompLen:], comp)
		b.SetLen(total)
		data = data[:total]
		if !tun {
			setLength(data, v6)
		}
	}
	l4 := outer + hl
	if !compressed {
		l4 = outer
	}
	b.Meta.L4Proto, b.Meta.L4Off = proto, uint16(l4)
	return stats.ReasonNone
}

// setLength fixes the length fields (and the IPv4 checksum) of packet data.
func setLength(data []byte, v6 bool) {
	if v6 {
		hdr.IPv6(data).SetPayloadLen(len(data) - hdr.IPv6Len)
		return
	}
	ip := hdr.IPv4(data)
	ip.SetTotalLen(len(data))
	tunnel.SetIPv4Checksum(data)
}
