package esp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
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
	var r decapSA
	for i := 0; i < n; {
		j := runEnd(sas, i)
		why := r.init(sas[i])
		for k := i; k < j; k++ {
			p.w[k] = work{op: -1}
			res[k] = why
			if why == stats.ReasonNone {
				res[k] = r.plan(&p.w[k], bufs[k])
			}
		}
		if why == stats.ReasonNone && live(res[i:j]) {
			// Replay check before the ICV (RFC 4303 §3.4.3), no state change.
			p.replayCheck(bufs, r.sa, i, j, res)
			for k := i; k < j; k++ {
				if res[k] == stats.ReasonNone {
					w := &p.w[k]
					cryptoOp(p.addOp(k), w, r.s, bufs[k].Bytes(), w.end-r.icvLen, r.sa.ESN)
				}
			}
		}
		i = j
	}
	p.eng.Open(p.ops)
	// Every packet still live has an op, in packet order. Commit only
	// what verified; a duplicate within the burst loses here.
	k := 0
	for i := 0; i < n; {
		j := runEnd(sas, i)
		ok := false
		for m := i; m < j; m++ {
			if res[m] != stats.ReasonNone {
				continue
			}
			st := p.ops[k].Status
			k++
			if sas[m].ESN {
				restoreAAD(&p.w[m], bufs[m].Bytes())
			}
			if st != alg.OK {
				res[m] = statusReason(st)
				continue
			}
			ok = true
		}
		if ok {
			p.replayCommit(sas[i], i, j, res)
		}
		i = j
	}
	p.done()
	for i := 0; i < n; {
		j := runEnd(sas, i)
		if live(res[i:j]) {
			r.load(sas[i])
			for k := i; k < j; k++ {
				if res[k] == stats.ReasonNone {
					res[k] = r.strip(&p.w[k], bufs[k], &opt)
				}
			}
		}
		i = j
	}
	return p.account(sas, res)
}

// decapSA is what Decap works out once per run of packets with one SA.
type decapSA struct {
	sa            *sad.SA
	s             *alg.Session
	ivLen, icvLen int
	block         int // CBC: the ciphertext is whole blocks of this; else 0
	tunnel        bool
}

// init readies r for a run with sa, or tells why its packets are dropped.
func (r *decapSA) init(sa *sad.SA) stats.Reason {
	if sa == nil || sa.Sess == nil {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	r.load(sa)
	return stats.ReasonNone
}

// load takes sa's settings.
func (r *decapSA) load(sa *sad.SA) {
	s := sa.Sess
	*r = decapSA{sa: sa, s: s, ivLen: s.IVLen(), icvLen: s.ICVLen(), tunnel: sa.Mode == sad.ModeTunnel}
	if bl := s.BlockLen(); bl > 4 {
		r.block = bl
	}
}

// plan checks the outer packet and locates its ESP packet.
func (r *decapSA) plan(w *work, b *pkt.Buf) stats.Reason {
	if int(b.Meta.HistoryLen) >= pkt.MaxHistory {
		return stats.ReasonTooManyHeaders
	}
	data := b.Bytes()
	end, why := ipLen(data)
	if why != stats.ReasonNone {
		return why
	}
	data = data[:end]
	w.v6 = data[0]>>4 == 6
	off := int(b.Meta.L4Off)
	switch {
	case b.Meta.L4Proto == hdr.ProtoESP && !r.sa.NATT:
		w.esp = off
	case b.Meta.L4Proto == hdr.ProtoUDP && r.sa.NATT:
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
	text := end - w.esp - hdr.ESPLen - r.ivLen - r.icvLen
	if text < 2 {
		return stats.ReasonBadESPLength
	}
	if r.block != 0 && text%r.block != 0 {
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
