package esp

import (
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
	"github.com/fastipsec/fastipsec/ipsec/xform"
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
	runs := p.books.Runs(sas[:n])
	var r decapSA
	i := 0
	for _, j := range runs {
		if why := r.init(sas[i]); why != stats.ReasonNone {
			xform.Fail(res[i:j], why)
		} else {
			p.openRun(&r, bufs[i:j], p.w[i:j], res[i:j])
		}
		i = j
	}
	p.eng.Open(p.ops)
	ok, op := 0, 0
	i = 0
	for _, j := range runs {
		got, used := p.closeDecap(sas[i], bufs[i:j], p.w[i:j], res[i:j], p.ops[op:], &opt)
		ok, op = ok+got, op+used
		i = j
	}
	p.done()
	return ok
}

// openRun plans the packets bufs, which share r's SA, checks them against
// the replay window before the ICV (RFC 4303 §3.4.3; no state change) and
// queues their ops, holding the window lock once for the run.
func (p *Processor) openRun(r *decapSA, bufs []*pkt.Buf, ws []work, res []stats.Reason) {
	ws, res = ws[:len(bufs)], res[:len(bufs)]
	win := r.sa.LockReplay()
	for k, b := range bufs {
		w := &ws[k]
		*w = work{}
		data, why := r.plan(w, b)
		if why == stats.ReasonNone {
			seq, ok := win.Check(hdr.ESP(data[w.esp:]).Seq())
			if ok {
				w.seq = seq
				cryptoOp(p.addOp(), w, &r.shape, data, w.end-r.icvLen)
			} else {
				why = stats.ReasonReplay
			}
		}
		res[k] = why
	}
	r.sa.UnlockReplay()
}

// closeDecap takes the Open results of the run bufs (ops, one per live
// packet, in order), commits what verified to the replay window (a
// duplicate within the burst loses here), strips ESP and charges the SA.
// It returns the successes and the ops used.
func (p *Processor) closeDecap(sa *sad.SA, bufs []*pkt.Buf, ws []work, res []stats.Reason, ops []alg.Op, opt *Options) (int, int) {
	ws, res = ws[:len(bufs)], res[:len(bufs)]
	bytes, k := 0, 0
	if xform.Live(res) {
		var r decapSA
		r.load(sa)
		win := sa.LockReplay()
		for m, b := range bufs {
			if res[m] != stats.ReasonNone {
				continue
			}
			st := ops[k].Status
			k++
			w := &ws[m]
			if w.esnAAD {
				restoreAAD(w, b.Bytes())
			}
			switch {
			case st != alg.OK:
				res[m] = xform.StatusReason(st, stats.ReasonBadESPLength)
			case !win.Commit(w.seq):
				res[m] = stats.ReasonReplay
			default:
				if res[m] = r.strip(w, b, opt); res[m] == stats.ReasonNone {
					bytes += b.Len()
				}
			}
		}
		sa.UnlockReplay()
	}
	return p.books.Settle(sa, res, bytes), k
}

// decapSA is what Decap works out once per run of packets with one SA.
type decapSA struct {
	shape
	sa           *sad.SA
	block        int // CBC: the ciphertext is whole blocks of this; else 0
	tunnel, natt bool
}

// init readies r for a run with sa, or tells why its packets are dropped.
func (r *decapSA) init(sa *sad.SA) stats.Reason {
	if why := xform.Usable(sa); why != stats.ReasonNone {
		return why
	}
	r.load(sa)
	return stats.ReasonNone
}

// load takes sa's settings.
func (r *decapSA) load(sa *sad.SA) {
	s := sa.Sess
	*r = decapSA{sa: sa, tunnel: sa.Mode == sad.ModeTunnel, natt: sa.NATT}
	r.shape.load(s, sa.ESN)
	if bl := s.BlockLen(); bl > 4 {
		r.block = bl
	}
}

// plan checks the outer packet and locates its ESP packet, which it
// returns.
func (r *decapSA) plan(w *work, b *pkt.Buf) ([]byte, stats.Reason) {
	if int(b.Meta.HistoryLen) >= pkt.MaxHistory {
		return nil, stats.ReasonTooManyHeaders
	}
	data := b.Bytes()
	var end int
	if len(data) > 0 && data[0]>>4 == 4 { // tunnel.Len, inline for IPv4
		if !hdr.IPv4(data).IsValid(len(data)) {
			return nil, tunnel.IPv4Reason(data)
		}
		end = hdr.IPv4(data).TotalLen()
	} else {
		var why stats.Reason
		if end, why = tunnel.Len(data); why != stats.ReasonNone {
			return nil, why
		}
		w.v6 = true
	}
	data = data[:end]
	off := int(b.Meta.L4Off)
	switch {
	case b.Meta.L4Proto == hdr.ProtoESP && !r.natt:
		w.esp = off
	case b.Meta.L4Proto == hdr.ProtoUDP && r.natt:
		w.udp, w.esp = off, off+hdr.UDPLen
	default:
		return nil, stats.ReasonNoSA // not this SA's encapsulation
	}
	minHdr := hdr.IPv4MinLen
	if w.v6 {
		minHdr = hdr.IPv6Len
	}
	if off < minHdr || w.esp > end {
		return nil, stats.ReasonIPTruncated
	}
	text := end - w.esp - hdr.ESPLen - r.ivLen - r.icvLen
	if text < 2 {
		return nil, stats.ReasonBadESPLength
	}
	if r.block != 0 && text%r.block != 0 {
		return nil, stats.ReasonBadESPLength // CBC needs whole blocks
	}
	w.end = end
	w.hdr = off
	if w.v6 {
		c, ok := hdr.IPv6(data).Walk(end)
		if !ok || c.Off != off {
			return nil, stats.ReasonIPv6BadExtHdr
		}
		w.next = c.NextOff
	} else {
		ip := hdr.IPv4(data)
		if ip.IsFragment() {
			return nil, stats.ReasonIPFragment
		}
		if ip.HeaderLen() != off {
			return nil, stats.ReasonIPBadHeaderLen
		}
		w.next = 9
	}
	if end != b.Len() {
		b.SetLen(end) // drop anything after the IP packet
	}
	return data, stats.ReasonNone
}
