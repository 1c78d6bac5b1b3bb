package esp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// maxSeq32 is the last sequence number of an SA without ESN.
const maxSeq32 = 1<<32 - 1

// Encap protects bufs[i] with sas[i] in place. Each buffer holds a bare IP
// packet; on success res[i] is stats.ReasonNone and the buffer holds the
// outer packet (ESP, or ESP in UDP for NAT-T SAs), else res[i] is the drop
// reason and the caller drops the buffer. Sequence numbers are reserved and
// lifetimes charged once per run of consecutive packets with the same SA;
// crossed lifetimes are listed by Expired. Returns the number of successes.
func (p *Processor) Encap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	n := len(bufs)
	p.begin(n)
	for i := range n {
		p.w[i] = work{op: -1}
		res[i] = planEncap(&p.w[i], bufs[i], sas[i])
	}
	for i := 0; i < n; {
		j := runEnd(sas, i)
		p.reserve(sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			p.buildEncap(i, bufs[i], sas[i], &opt)
		}
	}
	p.eng.Seal(p.ops)
	for i := range n {
		w := &p.w[i]
		if w.op < 0 {
			continue
		}
		data := bufs[i].Bytes()
		restoreAAD(w, data)
		if st := p.ops[w.op].Status; st != 0 {
			res[i] = statusReason(st)
			continue
		}
		if w.udp != 0 && data[0]>>4 == 6 {
			udpChecksum6(data, w.udp)
		}
	}
	p.done()
	return p.account(sas, res)
}

// planEncap checks one packet and makes room for what ESP adds.
func planEncap(w *work, b *pkt.Buf, sa *sad.SA) stats.Reason {
	if sa == nil || sa.Sess == nil {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	data := b.Bytes()
	plen, r := ipLen(data)
	if r != stats.ReasonNone {
		return r
	}
	b.SetLen(plen) // drop anything after the IP packet
	data = data[:plen]
	w.v6 = data[0]>>4 == 6
	w.clear = plen
	s := sa.Sess
	udp := 0
	if sa.NATT {
		udp = hdr.UDPLen
	}
	esp := udp + hdr.ESPLen + s.IVLen()
	outer := 0
	if sa.Mode == sad.ModeTunnel {
		outer = hdr.IPv4MinLen
		if sa.Dst.Is6() {
			outer = hdr.IPv6Len
		}
		w.hdr, w.nh, w.pay = 0, hdr.ProtoIPIP, plen
		if w.v6 {
			w.nh = hdr.ProtoIPv6
		}
		if sa.TFCPad > plen {
			w.tfc = sa.TFCPad - plen
		}
	} else if r := planTransport(w, data); r != stats.ReasonNone {
		return r
	}
	w.front = outer + esp
	align := max(s.BlockLen(), 4)
	limit := 0xffff // IPv4 total length
	if outer == hdr.IPv6Len || outer == 0 && w.v6 {
		limit += hdr.IPv6Len // IPv6 payload length
	}
	for {
		w.pad = (align - (w.pay+w.tfc+2)%align) % align
		tail := w.tfc + w.pad + 2 + s.ICVLen()
		total := w.front + plen + tail
		if total > limit {
			if w.tfc > 0 {
				w.tfc = 0
				continue
			}
			return stats.ReasonIPBadLength
		}
		if b.Headroom() >= w.front && b.Tailroom() >= tail {
			return stats.ReasonNone
		}
		if total <= b.Cap() && b.Move(w.front) {
			return stats.ReasonNone
		}
		if w.tfc == 0 {
			return stats.ReasonNoBuffer
		}
		w.tfc = 0 // TFC padding is best effort
	}
}

// planTransport finds where ESP goes in a transport-mode packet: after the
// IPv4 header with its options, or after the IPv6 headers that must stay
// unfragmentable (RFC 4303 §3.1.1).
func planTransport(w *work, data []byte) stats.Reason {
	if !w.v6 {
		ip := hdr.IPv4(data)
		if ip.IsFragment() {
			return stats.ReasonIPFragment
		}
		w.hdr, w.next = ip.HeaderLen(), 9
	} else {
		c, ok := hdr.IPv6(data).Walk(len(data))
		if !ok {
			return stats.ReasonIPv6BadExtHdr
		}
		if c.Frag != 0 {
			return stats.ReasonIPFragment
		}
		w.hdr, w.next = c.Unfragmentable, c.InsertNext
	}
	w.nh = data[w.next]
	w.pay = len(data) - w.hdr
	return stats.ReasonNone
}

// reserve takes sequence numbers for the live packets of the run
// sas[i:j]. Without ESN the last numbers below 2^32 are handed out and the
// packets past them dropped (seq-wrap), and the SA hard-expires.
func (p *Processor) reserve(sa *sad.SA, i, j int, res []stats.Reason) {
	n := 0
	for k := i; k < j; k++ {
		if res[k] == stats.ReasonNone {
			n++
		}
	}
	if n == 0 {
		return
	}
	first, ok := sa.ReserveSeq(n)
	if !ok && !sa.ESN {
		if left := maxSeq32 - sa.Seq(); left > 0 && left < uint64(n) {
			n = int(left)
			first, ok = sa.ReserveSeq(n)
		}
	}
	if !ok {
		n = 0
	}
	for k := i; k < j; k++ {
		if res[k] != stats.ReasonNone {
			continue
		}
		if n == 0 {
			res[k] = stats.ReasonSeqWrap
			continue
		}
		p.w[k].seq = first
		first++
		n--
	}
	if !ok || sa.Seq() == maxSeq32 && !sa.ESN {
		p.raise(sa, sa.ExpireNow(sad.ExpireHard))
	}
}

// buildEncap writes the headers and trailer of packet i and queues its op:
//
//	tunnel:    outer IP | [UDP] | ESP | IV | inner packet | TFC | pad | pl | nh | ICV
//	transport: IP hdr   | [UDP] | ESP | IV | payload            | pad | pl | nh | ICV
func (p *Processor) buildEncap(i int, b *pkt.Buf, sa *sad.SA, opt *Options) {
	w := &p.w[i]
	s := sa.Sess
	plen := b.Len()
	b.Prepend(w.front)
	b.Append(w.tfc + w.pad + 2 + s.ICVLen())
	data := b.Bytes()
	total := len(data)
	udp := 0
	if sa.NATT {
		udp = hdr.UDPLen
	}
	proto := uint8(hdr.ProtoESP)
	if udp != 0 {
		proto = hdr.ProtoUDP
	}
	var ipHdr int
	if sa.Mode == sad.ModeTunnel {
		in := data[w.front : w.front+plen]
		if sa.Dst.Is4() {
			ipHdr = hdr.IPv4MinLen
			p.writeOuter4(data, in, sa, total, proto, opt)
		} else {
			ipHdr = hdr.IPv6Len
			writeOuter6(data, in, sa, total, proto, opt)
		}
	} else {
		ipHdr = w.hdr
		copy(data[:ipHdr], data[w.front:w.front+ipHdr])
		data[w.next] = proto
		if w.v6 {
			hdr.IPv6(data).SetPayloadLen(total - hdr.IPv6Len)
		} else {
			ip := hdr.IPv4(data)
			ip.SetTotalLen(total)
			setIPv4Checksum(ip)
		}
	}
	w.esp = ipHdr + udp
	if udp != 0 {
		w.udp = ipHdr
		writeUDP(data[ipHdr:], sa, total-ipHdr)
	}
	b.Meta.L4Proto, b.Meta.L4Off = proto, uint16(ipHdr)
	hdr.ESP(data[w.esp:]).Set(sa.SPI, uint32(w.seq))

	text := w.esp + hdr.ESPLen + s.IVLen()
	tfc := text + w.pay
	clear(data[tfc : tfc+w.tfc])
	pad := tfc + w.tfc
	for k := range w.pad {
		data[pad+k] = byte(k + 1)
	}
	trailer := pad + w.pad
	data[trailer] = byte(w.pad)
	data[trailer+1] = w.nh
	cryptoOp(p.addOp(i), w, s, data, trailer+2, sa.ESN)
}

// ipLen validates a bare IP packet and returns its length from its header.
func ipLen(data []byte) (int, stats.Reason) {
	if len(data) == 0 {
		return 0, stats.ReasonIPTruncated
	}
	switch data[0] >> 4 {
	case 4:
		ip := hdr.IPv4(data)
		if !ip.IsValid(len(data)) {
			return 0, ipv4Reason(data)
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

// ipv4Reason tells why an IPv4 header is invalid.
func ipv4Reason(data []byte) stats.Reason {
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
