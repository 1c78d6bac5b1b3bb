package ah

import (
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
// AH packet, else res[i] is the drop reason and the caller drops the
// buffer. Sequence numbers are reserved and lifetimes charged once per run
// of consecutive packets with the same SA. Returns the number of successes.
func (p *Processor) Encap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	n := len(bufs)
	p.begin(n)
	for i := range n {
		p.w[i] = work{op: -1}
		res[i] = planEncap(&p.w[i], bufs[i], sas[i])
	}
	runs := p.books.Runs(sas[:n])
	i := 0
	for _, j := range runs {
		p.reserve(sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			res[i] = p.buildEncap(i, bufs[i], sas[i], &opt)
		}
	}
	p.eng.Seal(p.ops)
	for i := range n {
		w := &p.w[i]
		if w.op < 0 {
			continue
		}
		p.restore(w, bufs[i].Bytes())
		if st := p.ops[w.op].Status; st != 0 {
			res[i] = xform.StatusReason(st, stats.ReasonBadAHLength)
		}
	}
	p.done()
	return p.account(sas, runs, res)
}

// planEncap checks one packet and makes room for what AH adds.
func planEncap(w *work, b *pkt.Buf, sa *sad.SA) stats.Reason {
	if why := xform.Usable(sa); why != stats.ReasonNone {
		return why
	}
	data := b.Bytes()
	plen, r := tunnel.Len(data)
	if r != stats.ReasonNone {
		return r
	}
	b.SetLen(plen)
	data = data[:plen]
	w.clear = plen
	outer := 0
	if sa.Mode == sad.ModeTunnel {
		w.v6 = sa.Dst.Is6()
		outer = hdr.IPv4MinLen
		if w.v6 {
			outer = hdr.IPv6Len
		}
		w.nh = tunnel.NextHeader(data)
	} else {
		w.v6 = data[0]>>4 == 6
		if r := planTransport(w, data); r != stats.ReasonNone {
			return r
		}
	}
	w.ahLen = HeaderLen(sa, w.v6)
	w.front = outer + w.ahLen
	limit := 0xffff
	if w.v6 {
		limit += hdr.IPv6Len
	}
	if w.front+plen > limit {
		return stats.ReasonIPBadLength
	}
	tail := 0
	if sa.ESN && sa.Sess.Enc() == alg.EncAESGMAC {
		tail = 4 // SeqHi after the packet for the ICV input
	}
	if b.Headroom() >= w.front && b.Tailroom() >= tail {
		return stats.ReasonNone
	}
	if w.front+plen+tail <= b.Cap() && b.Move(w.front) {
		return stats.ReasonNone
	}
	return stats.ReasonNoBuffer
}

// planTransport finds where AH goes in a transport-mode packet.
func planTransport(w *work, data []byte) stats.Reason {
	var why stats.Reason
	if w.hdr, w.next, why = tunnel.Transport(data, w.v6); why != stats.ReasonNone {
		return why
	}
	w.nh = data[w.next]
	return stats.ReasonNone
}

// reserve numbers the live packets of the run sas[i:j]; those past the
// last number of an SA without ESN are dropped (seq-wrap).
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
	first, n := p.books.Reserve(sa, n)
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
}

// buildEncap writes the headers of packet i and queues its op:
//
//	tunnel:    outer IP | AH | inner packet
//	transport: IP hdr   | AH | payload
func (p *Processor) buildEncap(i int, b *pkt.Buf, sa *sad.SA, opt *Options) stats.Reason {
	w := &p.w[i]
	plen := b.Len()
	b.Prepend(w.front)
	data := b.Bytes()
	total := len(data)
	if sa.Mode == sad.ModeTunnel {
		in := data[w.front : w.front+plen]
		if w.v6 {
			w.ah = hdr.IPv6Len
			src, dst := sa.Src.As16(), sa.Dst.As16()
			tunnel.WriteOuter6(data, in, &src, &dst, total, hdr.ProtoAH, &opt.Outer)
		} else {
			w.ah = hdr.IPv4MinLen
			p.ipID++
			tunnel.WriteOuter4(data, in, sa.Src.As4(), sa.Dst.As4(), total, hdr.ProtoAH, p.ipID, &opt.Outer)
		}
	} else {
		w.ah = w.hdr
		copy(data[:w.hdr], data[w.front:w.front+w.hdr])
		data[w.next] = hdr.ProtoAH
		tunnel.SetLength(data, w.v6)
	}
	b.Meta.L4Proto, b.Meta.L4Off = hdr.ProtoAH, uint16(w.ah)
	a := data[w.ah : w.ah+w.ahLen]
	hdr.AH(a).Set(w.nh, w.ahLen, sa.SPI, uint32(w.seq))
	clear(a[hdr.AHMinLen:])
	w.save = p.saveHeaders(data, w.ah)
	if r := zeroMutable(data, w.ah, w.v6, true, opt); r != stats.ReasonNone {
		p.restore(w, data)
		return r
	}
	p.authOp(p.addOp(i), w, sa, data, b)
	return stats.ReasonNone
}

// authOp describes packet data's ICV computation to the engine:
//
//	data[ah:]  AH fixed part | [GMAC IV] | ICV | padding
//
// the whole packet authenticated, the ICV field zero; ESN's SeqHi goes
// after the packet (composite algorithms take it as Op.SeqHi; GMAC gets it
// written into the tailroom and included in the AAD).
func (p *Processor) authOp(op *alg.Op, w *work, sa *sad.SA, data []byte, b *pkt.Buf) {
	s := sa.Sess
	iv := w.ah + hdr.AHMinLen
	icv := iv + s.IVLen()
	op.Sess, op.IV, op.IVCounter = s, data[iv:icv], w.seq
	op.Text = data[icv:icv]
	if w.aside {
		op.ICV = w.icv[:s.ICVLen()]
	} else {
		op.ICV = data[icv : icv+s.ICVLen()]
	}
	if !s.AEAD() {
		op.Auth = data
		op.SeqHi, op.ESN = uint32(w.seq>>32), sa.ESN
		return
	}
	op.AAD = data
	if sa.ESN {
		mem, off := b.Raw()
		end := off + len(data)
		putSeqHi(mem[end:end+4], uint32(w.seq>>32))
		op.AAD = mem[off : end+4]
		w.seqHi = true
	}
}

func putSeqHi(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
