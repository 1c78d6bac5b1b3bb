package stage

import (
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/esp"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// outbound is one core's outbound stage.
type outbound struct {
	d   *Deps
	esp *esp.Processor
	st  *ESPStats
	pol []*spd.Policy // per burst slot: the ipsec policy to apply, or nil
	v4  batch
	v6  batch
	x   *xforms // AH and IPComp (xform_out.go)
	enc encHook
	acq acquirer
	use policyUse
	// lens are a batch's packet lengths before encapsulation
	lens []int

	// per request index, the last SA chosen within this burst, reused for
	// the next packet of the same policy between the same endpoints
	last [pkt.MaxHistory]saChoice
}

// saChoice is one remembered SA lookup.
type saChoice struct {
	p        *spd.Policy
	src, dst netip.Addr
	sa       *sad.SA
}

func newOutbound(d *Deps, core int) *outbound {
	s := &outbound{d: d, esp: esp.NewProcessor(d.engine()), st: d.Stats.core(core),
		pol: make([]*spd.Policy, 0, 4*pkt.BurstSize), v4: newBatch(), v6: newBatch(), enc: newEncHook(d),
		x:    newXforms(d, core),
		lens: make([]int, 0, 4*pkt.BurstSize)}
	s.acq.init(d.Stats.acquireCore(core))
	return s
}

func (s *outbound) Name() string { return "ipsec-out" }

// Process applies the outbound policy to every packet, running each
// request of a bundle as one batched round.
func (s *outbound) Process(ctx *engine.Ctx, bufs []*pkt.Buf) int {
	kn := s.d.Knobs.Load()
	s.last = [pkt.MaxHistory]saChoice{}
	s.use.reset()
	s.release(ctx, kn)
	if s.deferBurst(ctx, bufs) {
		return 0
	}
	s.pol = s.pol[:0]
	rounds := 0
	for i := range bufs {
		p := s.classify(ctx, bufs, i, kn)
		s.pol = append(s.pol, p)
		if p != nil && len(p.Requests) > rounds {
			rounds = len(p.Requests)
		}
	}
	for round := 0; round < rounds; round++ {
		s.v4.reset()
		s.v6.reset()
		s.x.reset()
		for i, b := range bufs {
			p := s.pol[i]
			if b == nil || p == nil || round >= len(p.Requests) {
				continue
			}
			s.prepare(ctx, bufs, i, p, round, kn)
		}
		s.encap(ctx, bufs, &s.v4, kn)
		s.encap(ctx, bufs, &s.v6, kn)
		s.encapXform(ctx, bufs, kn)
	}
	n := 0
	for _, b := range bufs {
		if b != nil {
			bufs[n] = b
			n++
		}
	}
	clear(bufs[n:])
	clear(s.pol)
	return n
}

// classify looks up the outbound policy: nil means send as is (or the
// packet was dropped); otherwise the ipsec policy to apply.
func (s *outbound) classify(ctx *engine.Ctx, bufs []*pkt.Buf, i int, kn *knobs.Values) *spd.Policy {
	b := bufs[i]
	if b.Meta.Flags&pkt.FlagNoIPsec != 0 {
		return nil
	}
	data := b.Bytes()
	if ctx.FromHost(b) && isIKE(data, b.Meta.L4Proto, int(b.Meta.L4Off)) {
		return nil
	}
	key, _ := spd.KeyFromPacket(data, b.Meta.L4Proto, int(b.Meta.L4Off))
	p := s.d.SPD.Lookup(spd.DirOut, &key)
	s.use.mark(p)
	if p == nil || p.Action == spd.ActionEntrust {
		if kn.Fam[family(data)].DefPolicy == 0 {
			s.st.Nopf.Add(1)
			s.drop(ctx, bufs, i, stats.ReasonPolicyDiscard)
		}
		return nil
	}
	switch p.Action {
	case spd.ActionDiscard:
		s.drop(ctx, bufs, i, stats.ReasonPolicyDiscard)
		return nil
	case spd.ActionIPsec:
		return p
	}
	return nil
}

// prepare finds the SA for request round of p, checks the path MTU and
// adds the packet to its family's batch; a packet that needs no SA for
// this request (level use, none installed) skips the round.
func (s *outbound) prepare(ctx *engine.Ctx, bufs []*pkt.Buf, i int, p *spd.Policy, round int, kn *knobs.Values) {
	if round == 0 && s.hold(ctx, bufs, i, p, kn) {
		return
	}
	b := bufs[i]
	r := &p.Requests[round]
	data := b.Bytes()
	fam := family(data)
	if !protoEnabled(r.Proto, kn) {
		s.dropProto(ctx, bufs, i, r.Proto, stats.ReasonProtoDisabled)
		return
	}
	src, dst := addrs(data)
	sa := s.findSA(p, round, src, dst, kn)
	if sa == nil { // hold raised the ACQUIRE
		if mandatory(r, &kn.Fam[fam]) {
			s.drop(ctx, bufs, i, stats.ReasonPolicyNoSA)
		}
		return
	}
	if sa.Mode == sad.ModeTunnel || r.Mode == sad.ModeTunnel {
		if !s.fits(ctx, b, sa, kn) {
			s.dropProto(ctx, bufs, i, r.Proto, stats.ReasonFragNeeded)
			return
		}
	}
	if r.Proto != sad.ProtoESP {
		s.x.add(i, b, sa)
		return
	}
	if sa.Dst.Is4() {
		s.v4.add(i, b, sa)
	} else {
		s.v6.add(i, b, sa)
	}
}

// findSA picks the SA for request k of p applied to a packet between
// src and dst (see spd.Policy.Endpoints), remembering it for the burst.
func (s *outbound) findSA(p *spd.Policy, k int, src, dst netip.Addr, kn *knobs.Values) *sad.SA {
	src, dst = p.Endpoints(k, src, dst)
	if k >= len(s.last) {
		return usableSA(s.d.SAD, &p.Requests[k], src, dst, kn)
	}
	l := &s.last[k]
	if l.sa != nil && l.p == p && l.src == src && l.dst == dst && l.sa.Usable() {
		return l.sa
	}
	sa := usableSA(s.d.SAD, &p.Requests[k], src, dst, kn)
	*l = saChoice{p: p, src: src, dst: dst, sa: sa}
	return sa
}

// usableSA looks up the SA for request r between src and dst; nil when
// there is none or it may not carry packets.
func usableSA(db *sad.Store, r *spd.Request, src, dst netip.Addr, kn *knobs.Values) *sad.SA {
	if !src.IsValid() || !dst.IsValid() {
		return nil
	}
	sa := db.Outbound(r.Proto, r.Mode, src, dst, r.ReqID, kn.PreferredOld != 0)
	if sa != nil && !sa.Usable() {
		return nil
	}
	return sa
}

// fits checks a tunnel-mode packet against the MTU towards the SA's peer
// (RFC 4301 §8): when the encapsulated packet would be too big and may
// not be fragmented (inner DF, outer DF by dfbit, or IPv6 inner with room
// for 1280), the inner source gets fragmentation-needed / packet-too-big
// with the MTU the tunnel leaves, and the packet is dropped. Otherwise the
// router fragments the outer packet.
func (s *outbound) fits(ctx *engine.Ctx, b *pkt.Buf, sa *sad.SA, kn *knobs.Values) bool {
	mtu, ok := ctx.RouteMTU(sa.Dst)
	if !ok {
		return true // no route: the engine answers that
	}
	over := overhead(sa)
	blk, trail := 4, 2 // ESP: padding to the block, pad length and next header
	if sa.Proto != sad.ProtoESP {
		over, trail = xformOverhead(sa), 0
	} else if sa.Sess != nil {
		blk = max(sa.Sess.BlockLen(), 4)
	}
	size := b.Len()
	if over+roundUp(size+trail, blk) <= mtu {
		return true
	}
	inner := (mtu-over)/blk*blk - trail
	data := b.Bytes()
	if data[0]>>4 == 4 {
		df := hdr.IPv4(data).DF()
		outerDF := kn.DFBit == 1 || (kn.DFBit == 2 && df)
		if !df && !outerDF {
			return true
		}
		if sa.Dst.Is6() && !df {
			return true
		}
		ctx.ICMPError(b, hdr.ICMPv4Unreachable, hdr.ICMPv4CodeFragNeeded, uint32(max(inner, 68)))
		return false
	}
	if inner < 1280 {
		return true // below the IPv6 minimum: fragment the outer packet instead
	}
	ctx.ICMPError(b, hdr.ICMPv6PacketTooBig, 0, uint32(inner))
	return false
}

// overhead is what ESP adds to a packet apart from padding.
func overhead(sa *sad.SA) int {
	n := hdr.ESPLen
	if sa.Sess != nil {
		n += sa.Sess.IVLen() + sa.Sess.ICVLen()
	}
	if sa.Mode == sad.ModeTunnel {
		if sa.Dst.Is4() {
			n += hdr.IPv4MinLen
		} else {
			n += hdr.IPv6Len
		}
	}
	if sa.NATT {
		n += hdr.UDPLen
	}
	return n
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// encap runs one family's batch through ESP.
func (s *outbound) encap(ctx *engine.Ctx, bufs []*pkt.Buf, bt *batch, kn *knobs.Values) {
	s.encFilter(ctx, bufs, bt, kn)
	if len(bt.bufs) == 0 {
		return
	}
	fam := knobs.V4
	if bt.sas[0].Dst.Is6() {
		fam = knobs.V6
	}
	s.lens = s.lens[:0]
	for _, b := range bt.bufs {
		s.lens = append(s.lens, b.Len())
	}
	s.esp.Encap(bt.bufs, bt.sas, bt.res, esp.Options{DFBit: kn.DFBit, ECN: kn.Fam[fam].ECN != 0})
	for _, e := range s.esp.Expired() {
		s.d.SAD.Raise(e.SA, e.Expiry)
	}
	for j, b := range bt.bufs {
		i := bt.idx[j]
		if r := bt.res[j]; r != stats.ReasonNone {
			if r == stats.ReasonSAExpired && b.Len() == s.lens[j] && s.requeue(ctx, bufs, i) {
				continue
			}
			s.drop(ctx, bufs, i, r)
			continue
		}
		b.Meta.Flags |= pkt.FlagEncapsulated | pkt.FlagNoIPsec
		s.st.Output.Add(1)
		s.st.Obytes.Add(uint64(b.Len()))
		s.st.Hist[bt.sas[j].Enc].Add(1)
		if bt.sas[j].Mode == sad.ModeTunnel {
			s.st.Tunnel.Add(1)
		}
	}
}

func (s *outbound) drop(ctx *engine.Ctx, bufs []*pkt.Buf, i int, r stats.Reason) {
	s.st.count(r)
	ctx.Drop(bufs[i], r)
	bufs[i] = nil
}
