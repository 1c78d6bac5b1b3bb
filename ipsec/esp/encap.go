package esp

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
	"github.com/fastipsec/fastipsec/ipsec/xform"
)

// Encap protects bufs[i] with sas[i] in place. Each buffer holds a bare IP
// packet; on success res[i] is stats.ReasonNone and the buffer holds the
// outer packet (ESP, or ESP in UDP for NAT-T SAs), else res[i] is the drop
// reason and the caller drops the buffer. Sequence numbers are reserved and
// lifetimes charged once per run of consecutive packets with the same SA;
// crossed lifetimes are listed by Expired. Returns the number of successes.
func (p *Processor) Encap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	n := len(bufs)
	p.begin(n)
	runs := p.books.Runs(sas[:n])
	var r encapSA
	i := 0
	for _, j := range runs {
		if why := r.init(sas[i], &opt); why != stats.ReasonNone {
			xform.Fail(res[i:j], why)
		} else {
			p.buildRun(&r, bufs[i:j], p.w[i:j], res[i:j])
		}
		i = j
	}
	p.eng.Seal(p.ops)
	ok, op := 0, 0
	i = 0
	for _, j := range runs {
		got, used := p.closeEncap(sas[i], bufs[i:j], p.w[i:j], res[i:j], p.ops[op:])
		ok, op = ok+got, op+used
		i = j
	}
	p.done()
	return ok
}

// buildRun plans, numbers and builds the packets bufs, which share r's
// SA, and queues their ops.
func (p *Processor) buildRun(r *encapSA, bufs []*pkt.Buf, ws []work, res []stats.Reason) {
	ws, res = ws[:len(bufs)], res[:len(bufs)]
	live := 0
	for k, b := range bufs {
		ws[k] = work{}
		if res[k] = r.plan(&ws[k], b); res[k] == stats.ReasonNone {
			live++
		}
	}
	if live == 0 {
		return
	}
	p.reserve(r.sa, ws, live, res)
	for k, b := range bufs {
		if res[k] == stats.ReasonNone {
			p.buildEncap(r, &ws[k], b)
		}
	}
}

// closeEncap takes the Seal results of the run bufs (ops, one per live
// packet, in order), puts ESN additional data back, fills in IPv6 NAT-T
// checksums and charges the SA. It returns the successes and the ops used.
func (p *Processor) closeEncap(sa *sad.SA, bufs []*pkt.Buf, ws []work, res []stats.Reason, ops []alg.Op) (int, int) {
	ws, res = ws[:len(bufs)], res[:len(bufs)]
	bytes, k := 0, 0
	fix := sa != nil && (sa.ESN || sa.NATT)
	for m, b := range bufs {
		if res[m] != stats.ReasonNone {
			continue
		}
		st := ops[k].Status
		k++
		w := &ws[m]
		if fix {
			data := b.Bytes()
			restoreAAD(w, data)
			if st == alg.OK && w.udp != 0 && data[0]>>4 == 6 {
				udpChecksum6(data, w.udp)
			}
		}
		if st != alg.OK {
			res[m] = xform.StatusReason(st, stats.ReasonBadESPLength)
			continue
		}
		bytes += w.clear
	}
	return p.books.Settle(sa, res, bytes), k
}

// encapSA is what Encap works out once per run of packets with one SA
// (from the SA, its session and the options), so that the per-packet work
// reads it from one place.
type encapSA struct {
	shape
	sa      *sad.SA
	padMask int   // padding alignment - 1 (a power of two, alg tests it)
	udp     int   // NAT-T UDP header length, 0 without
	outer   int   // tunnel: outer IP header length; transport: 0
	proto   uint8 // protocol after the (outer) IP header: ESP or UDP
	tunnel  bool
	opt     Options // tunnel: the outer header's DF bit, ECN and TTL
	spi     uint64  // SPI in the high half of the ESP header word

	// Tunnel IPv4: the outer header words that do not change per packet
	// (TTL and protocol, addresses) and their one's-complement sum with
	// the version/IHL byte.
	w2, src, dst uint32
	sum4         uint64
}

// init readies r for a run with sa, or tells why its packets are dropped.
func (r *encapSA) init(sa *sad.SA, opt *Options) stats.Reason {
	if why := xform.Usable(sa); why != stats.ReasonNone {
		return why
	}
	s := sa.Sess
	*r = encapSA{sa: sa, padMask: s.BlockLen() - 1,
		proto: hdr.ProtoESP, tunnel: sa.Mode == sad.ModeTunnel, opt: *opt,
		spi: uint64(sa.SPI) << 32}
	r.shape.load(s, sa.ESN)
	if sa.NATT {
		r.udp, r.proto = hdr.UDPLen, hdr.ProtoUDP
	}
	if !r.tunnel {
		return stats.ReasonNone
	}
	if sa.Dst.Is6() {
		r.outer = hdr.IPv6Len
		return stats.ReasonNone
	}
	r.outer = hdr.IPv4MinLen
	src, dst := sa.Src.As4(), sa.Dst.As4()
	r.w2 = uint32(opt.HopLimit())<<24 | uint32(r.proto)<<16
	r.src, r.dst = binary.BigEndian.Uint32(src[:]), binary.BigEndian.Uint32(dst[:])
	r.sum4 = uint64(ipv4VersionIHL)<<24 + uint64(r.w2) + uint64(r.src) + uint64(r.dst)
	return stats.ReasonNone
}

// plan checks one packet and makes room for what ESP adds.
func (r *encapSA) plan(w *work, b *pkt.Buf) stats.Reason {
	data := b.Bytes()
	var plen int
	if len(data) > 0 && data[0]>>4 == 4 { // tunnel.Len, inline for IPv4
		if !hdr.IPv4(data).IsValid(len(data)) {
			return tunnel.IPv4Reason(data)
		}
		plen = hdr.IPv4(data).TotalLen()
	} else {
		var why stats.Reason
		if plen, why = tunnel.Len(data); why != stats.ReasonNone {
			return why
		}
		w.v6 = true
	}
	if plen != len(data) {
		b.SetLen(plen) // drop anything after the IP packet
	}
	data = data[:plen]
	w.clear = plen
	if r.tunnel {
		w.nh, w.pay = hdr.ProtoIPIP, plen
		if w.v6 {
			w.nh = hdr.ProtoIPv6
		}
		if tfc := r.sa.TFCPad; tfc > plen {
			w.tfc = tfc - plen
		}
	} else if why := planTransport(w, data); why != stats.ReasonNone {
		return why
	}
	w.front = r.outer + r.udp + hdr.ESPLen + r.ivLen
	limit := 0xffff // IPv4 total length
	if r.outer == hdr.IPv6Len || r.outer == 0 && w.v6 {
		limit += hdr.IPv6Len // IPv6 payload length
	}
	for {
		w.pad = -(w.pay + w.tfc + 2) & r.padMask
		tail := w.tfc + w.pad + 2 + r.icvLen
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

// planTransport finds where ESP goes in a transport-mode packet.
func planTransport(w *work, data []byte) stats.Reason {
	var why stats.Reason
	if w.hdr, w.next, why = tunnel.Transport(data, w.v6); why != stats.ReasonNone {
		return why
	}
	w.nh = data[w.next]
	w.pay = len(data) - w.hdr
	return stats.ReasonNone
}

// reserve numbers the n live packets of a run; those past the last number
// of an SA without ESN are dropped (seq-wrap).
func (p *Processor) reserve(sa *sad.SA, ws []work, n int, res []stats.Reason) {
	first, n := p.books.Reserve(sa, n)
	res = res[:len(ws)]
	for k := range ws {
		if res[k] != stats.ReasonNone {
			continue
		}
		if n == 0 {
			res[k] = stats.ReasonSeqWrap
			continue
		}
		ws[k].seq = first
		first++
		n--
	}
}

// buildEncap writes the headers and trailer of the packet in b and queues
// its op:
//
//	tunnel:    outer IP | [UDP] | ESP | IV | inner packet | TFC | pad | pl | nh | ICV
//	transport: IP hdr   | [UDP] | ESP | IV | payload            | pad | pl | nh | ICV
func (p *Processor) buildEncap(r *encapSA, w *work, b *pkt.Buf) {
	// plan made the room: grow the packet at both ends in one step.
	mem, off := b.Raw()
	start, total := off-w.front, w.front+b.Len()+w.tfc+w.pad+2+r.icvLen
	b.SetData(start, total)
	data := mem[start : start+total : start+total]
	ipHdr := w.hdr
	switch {
	case r.outer == hdr.IPv4MinLen:
		p.writeOuter4(r, data, data[w.front:], total)
	case r.outer == hdr.IPv6Len:
		src, dst := r.sa.Src.As16(), r.sa.Dst.As16()
		tunnel.WriteOuter6(data, data[w.front:], &src, &dst, total, r.proto, &r.opt)
	default:
		copy(data[:ipHdr], data[w.front:w.front+ipHdr])
		data[w.next] = r.proto
		tunnel.SetLength(data, w.v6)
	}
	if r.tunnel {
		ipHdr = r.outer
	}
	w.esp = ipHdr + r.udp
	if r.udp != 0 {
		w.udp = ipHdr
		writeUDP(data[ipHdr:], r.sa, total-ipHdr)
	}
	b.Meta.L4Proto, b.Meta.L4Off = r.proto, uint16(ipHdr)
	binary.BigEndian.PutUint64(data[w.esp:], r.spi|uint64(uint32(w.seq)))

	tfc := w.esp + hdr.ESPLen + r.ivLen + w.pay
	pad := tfc + w.tfc
	if w.tfc > 0 {
		clear(data[tfc:pad])
	}
	trailer := pad + w.pad
	if w.pad <= 6 && trailer >= 6 {
		// Padding 1, 2, ..., pad length, next header: one word ending at
		// the trailer's end, keeping the payload bytes in front.
		x := data[trailer-6 : trailer+2]
		keep := ^padMasks[w.pad+2]
		binary.BigEndian.PutUint64(x, binary.BigEndian.Uint64(x)&keep|padWords[w.pad]<<16|uint64(w.pad)<<8|uint64(w.nh))
	} else {
		padding := data[pad:trailer]
		for k := range padding {
			padding[k] = byte(k + 1)
		}
		data[trailer] = byte(w.pad)
		data[trailer+1] = w.nh
	}
	cryptoOp(p.addOp(), w, &r.shape, data, trailer+2)
}
