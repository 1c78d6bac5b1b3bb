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

// Decap verifies and removes AH from bufs[i] with sas[i]. Each buffer
// holds the outer IP packet with its AH header at Meta.L4Off (Meta.L4Proto
// 51). On success res[i] is stats.ReasonNone and the buffer holds the
// inner packet (tunnel mode) or the original packet (transport mode),
// with a Step in Meta.History, FlagDecapsulated and a fresh L4 hint.
// Returns the number of successes.
func (p *Processor) Decap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	n := len(bufs)
	p.begin(n)
	for i := range n {
		p.w[i] = work{op: -1}
		res[i] = planDecap(&p.w[i], bufs[i], sas[i])
	}
	// Replay check before the ICV (RFC 4302 §3.4.3), no state change.
	runs := p.books.Runs(sas[:n])
	i := 0
	for _, j := range runs {
		p.replayCheck(bufs, sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			res[i] = p.prepareOpen(i, bufs[i], sas[i], &opt)
		}
	}
	p.eng.Open(p.ops)
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
	// Commit only what verified; a duplicate within the burst loses here.
	i = 0
	for _, j := range runs {
		p.replayCommit(sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			res[i] = strip(&p.w[i], bufs[i], sas[i], &opt)
		}
	}
	return p.account(sas, runs, res)
}

// planDecap checks the outer packet and locates its AH header.
func planDecap(w *work, b *pkt.Buf, sa *sad.SA) stats.Reason {
	if why := xform.Usable(sa); why != stats.ReasonNone {
		return why
	}
	if int(b.Meta.HistoryLen) >= pkt.MaxHistory {
		return stats.ReasonTooManyHeaders
	}
	if b.Meta.L4Proto != hdr.ProtoAH {
		return stats.ReasonNoSA
	}
	data := b.Bytes()
	end, r := tunnel.Len(data)
	if r != stats.ReasonNone {
		return r
	}
	data = data[:end]
	w.v6 = data[0]>>4 == 6
	off := int(b.Meta.L4Off)
	minHdr := hdr.IPv4MinLen
	if w.v6 {
		minHdr = hdr.IPv6Len
	}
	if off < minHdr || off+hdr.AHMinLen > end {
		return stats.ReasonIPTruncated
	}
	w.ahLen = HeaderLen(sa, w.v6)
	a := hdr.AH(data[off:])
	if a.Len() != w.ahLen || off+w.ahLen > end {
		return stats.ReasonBadAHLength
	}
	if w.v6 {
		c, ok := hdr.IPv6(data).Walk(end)
		if !ok || c.Off != off {
			return stats.ReasonIPv6BadExtHdr
		}
		if c.Frag != 0 {
			return stats.ReasonIPFragment
		}
		w.next = c.NextOff
	} else {
		ip := hdr.IPv4(data)
		if ip.IsFragment() {
			return stats.ReasonIPFragment
		}
		if ip.HeaderLen() != off {
			return stats.ReasonIPBadHeaderLen
		}
		w.next = 9
	}
	if sa.ESN && sa.Sess.Enc() == alg.EncAESGMAC && b.Tailroom() < 4 {
		return stats.ReasonNoBuffer
	}
	w.ah, w.hdr, w.end, w.nh = off, off, end, a.NextHeader()
	b.SetLen(end)
	return stats.ReasonNone
}

// prepareOpen moves the received ICV aside, zeroes the ICV field and the
// mutable header fields, and queues the verification.
func (p *Processor) prepareOpen(i int, b *pkt.Buf, sa *sad.SA, opt *Options) stats.Reason {
	w := &p.w[i]
	data := b.Bytes()
	s := sa.Sess
	icv := w.ah + hdr.AHMinLen + s.IVLen()
	copy(w.icv[:], data[icv:icv+s.ICVLen()])
	clear(data[icv : w.ah+w.ahLen])
	w.aside = true
	w.save = p.saveHeaders(data, w.ah)
	if r := zeroMutable(data, w.ah, w.v6, false, opt); r != stats.ReasonNone {
		p.restore(w, data)
		return r
	}
	p.authOp(p.addOp(i), w, sa, data, b)
	return stats.ReasonNone
}

// replayCheck infers the full sequence numbers of the run sas[i:j] and
// rejects replays, holding the SA's window lock once for the run.
func (p *Processor) replayCheck(bufs []*pkt.Buf, sa *sad.SA, i, j int, res []stats.Reason) {
	if !xform.Live(res[i:j]) {
		return
	}
	win := sa.LockReplay()
	for k := i; k < j; k++ {
		if res[k] != stats.ReasonNone {
			continue
		}
		w := &p.w[k]
		seq, ok := win.Check(hdr.AH(bufs[k].Bytes()[w.ah:]).Seq())
		if !ok {
			res[k] = stats.ReasonReplay
			continue
		}
		w.seq = seq
	}
	sa.UnlockReplay()
}

// replayCommit records the verified packets of the run sas[i:j].
func (p *Processor) replayCommit(sa *sad.SA, i, j int, res []stats.Reason) {
	if !xform.Live(res[i:j]) {
		return
	}
	win := sa.LockReplay()
	for k := i; k < j; k++ {
		if res[k] == stats.ReasonNone && !win.Commit(p.w[k].seq) {
			res[k] = stats.ReasonReplay
		}
	}
	sa.UnlockReplay()
}

// strip leaves the packet AH protected in the buffer.
func strip(w *work, b *pkt.Buf, sa *sad.SA, opt *Options) stats.Reason {
	data := b.Bytes()
	pay := w.ah + w.ahLen
	tun := sa.Mode == sad.ModeTunnel
	if sa.Mode == sad.ModeAny {
		tun = w.nh == hdr.ProtoIPIP || w.nh == hdr.ProtoIPv6
	}
	var why stats.Reason
	if tun {
		why = tunnel.Unwrap(b, pay, w.end, w.nh, opt.ECN)
	} else {
		h := w.hdr
		start := pay - h
		copy(data[start:pay], data[:h])
		pk := data[start:w.end]
		pk[w.next] = w.nh
		tunnel.SetLength(pk, w.v6)
		_, base := b.Raw()
		b.SetData(base+start, len(pk))
		why = tunnel.Relayer(b)
	}
	if why != stats.ReasonNone {
		return why
	}
	b.Meta.AddStep(pkt.Step{Proto: hdr.ProtoAH, Tunnel: tun, SPI: sa.SPI, ReqID: sa.ReqID})
	b.Meta.Flags |= pkt.FlagDecapsulated
	w.clear = b.Len()
	return stats.ReasonNone
}
