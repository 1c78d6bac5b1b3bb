package esp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// Decap removes ESP from bufs[i] with sas[i]. Each buffer holds the outer
// IP packet with its ESP header at Meta.L4Off (Meta.L4Proto 50), or after
// the UDP header there (Meta.L4Proto 17, NAT-T; keepalives and non-ESP
// markers already taken out by the caller). On success res[i] is
// stats.ReasonNone and the buffer holds the inner packet (tunnel mode) or
// the original packet (transport mode), with a Step in Meta.History,
// FlagDecapsulated and a fresh L4 hint. Dummy packets (next header 59) get
// stats.ReasonDummy: the caller absorbs them. Returns the number of
// successes.
func (p *Processor) Decap(bufs []*pkt.Buf, sas []*sad.SA, res []stats.Reason, opt Options) int {
	n := len(bufs)
	p.begin(n)
	for i := range n {
		p.w[i] = work{op: -1}
		res[i] = planDecap(&p.w[i], bufs[i], sas[i])
	}
	// Replay check before the ICV (RFC 4303 §3.4.3), no state change.
	for i := 0; i < n; {
		j := runEnd(sas, i)
		p.replayCheck(bufs, sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			w := &p.w[i]
			s := sas[i].Sess
			cryptoOp(p.addOp(i), w, s, bufs[i].Bytes(), w.end-s.ICVLen(), sas[i].ESN)
		}
	}
	p.eng.Open(p.ops)
	for i := range n {
		w := &p.w[i]
		if w.op < 0 {
			continue
		}
		restoreAAD(w, bufs[i].Bytes())
		if st := p.ops[w.op].Status; st != 0 {
			res[i] = statusReason(st)
		}
	}
	p.done()
	// Commit only what verified; a duplicate within the burst loses here.
	for i := 0; i < n; {
		j := runEnd(sas, i)
		p.replayCommit(sas[i], i, j, res)
		i = j
	}
	for i := range n {
		if res[i] == stats.ReasonNone {
			res[i] = p.strip(&p.w[i], bufs[i], sas[i], &opt)
		}
	}
	return p.account(sas, res)
}

// planDecap checks the outer packet and locates its ESP packet.
func planDecap(w *work, b *pkt.Buf, sa *sad.SA) stats.Reason {
	if sa == nil || sa.Sess == nil {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	if int(b.Meta.HistoryLen) >= pkt.MaxHistory {
		return stats.ReasonTooManyHeaders
	}
	data := b.Bytes()
	end, r := ipLen(data)
	if r != stats.ReasonNone {
		return r
	}
	data = data[:end]
	w.v6 = data[0]>>4 == 6
	off := int(b.Meta.L4Off)
	switch {
	case b.Meta.L4Proto == hdr.ProtoESP && !sa.NATT:
		w.esp = off
	case b.Meta.L4Proto == hdr.ProtoUDP && sa.NATT:
		w.udp, w.esp = off, off+hdr.UDPLen
	default:
		return stats.ReasonNoSA // not this SA's encapsulation
	}
	minHdr := hdr.IPv4MinLen
	if w.v6 {
		minHdr = hdr.IPv6Len
	}
	if off < minHdr || w.esp > end {
		return stats.ReasonIPTruncated
	}
	s := sa.Sess
	text := end - w.esp - hdr.ESPLen - s.IVLen() - s.ICVLen()
	if text < 2 {
		return stats.ReasonBadESPLength
	}
	if bl := s.BlockLen(); bl > 4 && text%bl != 0 {
		return stats.ReasonBadESPLength // CBC needs whole blocks
	}
	w.end = end
	w.hdr = off
	if w.v6 {
		c, ok := hdr.IPv6(data).Walk(end)
		if !ok || c.Off != off {
			return stats.ReasonIPv6BadExtHdr
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
	b.SetLen(end)
	return stats.ReasonNone
}

// replayCheck infers the full sequence numbers of the run sas[i:j] and
// rejects replays, holding the SA's window lock once for the run.
func (p *Processor) replayCheck(bufs []*pkt.Buf, sa *sad.SA, i, j int, res []stats.Reason) {
	if !live(res[i:j]) {
		return
	}
	win := sa.LockReplay()
	for k := i; k < j; k++ {
		if res[k] != stats.ReasonNone {
			continue
		}
		w := &p.w[k]
		seq, ok := win.Check(hdr.ESP(bufs[k].Bytes()[w.esp:]).Seq())
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
	if !live(res[i:j]) {
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

func live(res []stats.Reason) bool {
	for _, r := range res {
		if r == stats.ReasonNone {
			return true
		}
	}
	return false
}
