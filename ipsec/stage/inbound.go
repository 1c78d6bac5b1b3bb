package stage

import (
	"encoding/binary"
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

// NAT-T and IKE ports (RFC 3948, RFC 7296).
const (
	portIKE  = 500
	portNATT = 4500
)

// batch is the scratch a stage uses to hand a group of packets to a
// transform: the packets, their SAs, the results, and where they sit in
// the burst.
type batch struct {
	bufs []*pkt.Buf
	sas  []*sad.SA
	res  []stats.Reason
	idx  []int
}

func newBatch() batch {
	const n = 4 * pkt.BurstSize
	return batch{bufs: make([]*pkt.Buf, 0, n), sas: make([]*sad.SA, 0, n),
		res: make([]stats.Reason, 0, n), idx: make([]int, 0, n)}
}

func (b *batch) reset() {
	clear(b.bufs)
	clear(b.sas)
	b.bufs, b.sas, b.res, b.idx = b.bufs[:0], b.sas[:0], b.res[:0], b.idx[:0]
}

func (b *batch) add(i int, p *pkt.Buf, sa *sad.SA) {
	b.bufs = append(b.bufs, p)
	b.sas = append(b.sas, sa)
	b.res = append(b.res, stats.ReasonNone)
	b.idx = append(b.idx, i)
}

// inbound is one core's inbound stage.
type inbound struct {
	d     *Deps
	esp   *esp.Processor
	st    *ESPStats
	v4    batch
	v6    batch
	x     *xforms // AH and IPComp (xform_in.go)
	local []bool  // per burst slot: addressed to the router
	enc   encHook
	use   policyUse
}

func newInbound(d *Deps, core int) *inbound {
	return &inbound{d: d, esp: esp.NewProcessor(d.engine()), st: d.Stats.core(core),
		v4: newBatch(), v6: newBatch(), x: newXforms(d, core), local: make([]bool, 0, 4*pkt.BurstSize), enc: newEncHook(d)}
}

func (s *inbound) Name() string { return "ipsec-in" }

// Process decapsulates what is for us (nested transforms included) and
// applies the inbound policy to everything.
func (s *inbound) Process(ctx *engine.Ctx, bufs []*pkt.Buf) int {
	kn := s.d.Knobs.Load()
	s.enc.load()
	s.use.reset()
	s.local = s.local[:0]
	for _, b := range bufs {
		s.local = append(s.local, b.Meta.Flags&pkt.FlagToLocal != 0)
	}
	for round := 0; round < pkt.MaxHistory; round++ {
		s.v4.reset()
		s.v6.reset()
		s.x.reset()
		for i, b := range bufs {
			if b == nil || !s.local[i] || int(b.Meta.HistoryLen) != round {
				continue
			}
			s.collect(ctx, bufs, i, kn)
		}
		if len(s.v4.bufs)+len(s.v6.bufs) == 0 && s.x.empty() {
			break
		}
		s.decap(ctx, bufs, &s.v4, kn.Fam[knobs.V4].ECN != 0)
		s.decap(ctx, bufs, &s.v6, kn.Fam[knobs.V6].ECN != 0)
		s.decapXform(ctx, bufs, kn)
	}
	s.encFilter(ctx, bufs, kn)
	n := 0
	for i, b := range bufs {
		if b == nil {
			continue
		}
		if s.policyOK(ctx, b, s.local[i], kn) {
			bufs[n] = b
			n++
		}
	}
	clear(bufs[n:])
	return n
}

// collect looks at one packet for the router: ESP or ESP-in-UDP goes to
// the batch of its outer family; NAT-T keepalives are absorbed; anything
// else (IKE included) is left for local delivery.
func (s *inbound) collect(ctx *engine.Ctx, bufs []*pkt.Buf, i int, kn *knobs.Values) {
	b := bufs[i]
	data := b.Bytes()
	off := int(b.Meta.L4Off)
	if data[0]>>4 == 4 && hdr.IPv4(data).IsFragment() {
		return // reassembled by the engine before it gets here
	}
	if s.collectXform(ctx, bufs, i, kn) {
		return
	}
	var spiOff int
	switch b.Meta.L4Proto {
	case hdr.ProtoESP:
		spiOff = off
	case hdr.ProtoUDP:
		if off+hdr.UDPLen > len(data) || binary.BigEndian.Uint16(data[off+2:]) != portNATT {
			return
		}
		payload := data[off+hdr.UDPLen:]
		if len(payload) == 1 && payload[0] == 0xff {
			s.drop(ctx, bufs, i, stats.ReasonNATKeepalive) // RFC 3948 §2.3
			return
		}
		if len(payload) < hdr.ESPLen || binary.BigEndian.Uint32(payload) == 0 {
			return // non-ESP marker: IKE, for the host
		}
		spiOff = off + hdr.UDPLen
	default:
		return
	}
	if spiOff+hdr.ESPLen > len(data) {
		s.drop(ctx, bufs, i, stats.ReasonIPTruncated)
		return
	}
	if kn.ESPEnable == 0 {
		s.drop(ctx, bufs, i, stats.ReasonProtoDisabled)
		return
	}
	spi := binary.BigEndian.Uint32(data[spiOff:])
	src, dst := addrs(data)
	sa := s.d.SAD.Inbound(sad.ProtoESP, spi, dst, src)
	switch {
	case sa == nil || sa.NATT != (b.Meta.L4Proto == hdr.ProtoUDP):
		s.drop(ctx, bufs, i, stats.ReasonNoSA)
		return
	case !sa.Usable():
		s.drop(ctx, bufs, i, stats.ReasonSAExpired)
		return
	}
	if data[0]>>4 == 4 {
		s.v4.add(i, b, sa)
	} else {
		s.v6.add(i, b, sa)
	}
}

// decap runs one family's batch through ESP and records the outcome.
func (s *inbound) decap(ctx *engine.Ctx, bufs []*pkt.Buf, bt *batch, ecn bool) {
	if len(bt.bufs) == 0 {
		return
	}
	s.esp.Decap(bt.bufs, bt.sas, bt.res, esp.Options{ECN: ecn})
	s.raise(s.esp.Expired())
	for j, b := range bt.bufs {
		i := bt.idx[j]
		if r := bt.res[j]; r != stats.ReasonNone {
			s.drop(ctx, bufs, i, r)
			continue
		}
		s.enc.saw(b, bt.sas[j])
		s.st.Input.Add(1)
		s.st.Ibytes.Add(uint64(b.Len()))
		s.st.Hist[bt.sas[j].Enc].Add(1)
		if bt.sas[j].Mode == sad.ModeTunnel {
			s.st.Tunnel.Add(1)
		}
		// The packet inside may be for us again (nested transforms).
		s.local[i] = ctx.IsLocal(dstAddr(b.Bytes()))
		if s.local[i] {
			b.Meta.Flags |= pkt.FlagToLocal
		} else {
			b.Meta.Flags &^= pkt.FlagToLocal
		}
	}
}

func (s *inbound) raise(ev []esp.Expiry) {
	for _, e := range ev {
		s.d.SAD.Raise(e.SA, e.Expiry)
	}
}

func (s *inbound) drop(ctx *engine.Ctx, bufs []*pkt.Buf, i int, r stats.Reason) {
	s.st.count(r)
	ctx.Drop(bufs[i], r)
	bufs[i] = nil
}

// policyOK checks a received packet (after its last decapsulation)
// against the inbound policy (RFC 4301 §5.2): it must match a policy
// whose requests the decapsulation history satisfies; a decapsulated
// packet no IPsec policy covers is dropped whatever def_policy says.
func (s *inbound) policyOK(ctx *engine.Ctx, b *pkt.Buf, local bool, kn *knobs.Values) bool {
	data := b.Bytes()
	decap := b.Meta.HistoryLen > 0
	if !decap && local && isIKE(data, b.Meta.L4Proto, int(b.Meta.L4Off)) {
		return true // IKE reaches the keying daemon in the clear
	}
	key, _ := spd.KeyFromPacket(data, b.Meta.L4Proto, int(b.Meta.L4Off))
	var p *spd.Policy
	if !local {
		p = s.d.SPD.Lookup(spd.DirFwd, &key)
	}
	if p == nil {
		p = s.d.SPD.Lookup(spd.DirIn, &key)
	}
	s.use.mark(p)
	fam := family(data)
	if p == nil || p.Action == spd.ActionEntrust {
		if decap {
			return s.reject(ctx, b, stats.ReasonPolicyMismatch)
		}
		if kn.Fam[fam].DefPolicy == 0 {
			s.st.Nopf.Add(1)
			return s.reject(ctx, b, stats.ReasonPolicyDiscard)
		}
		return true
	}
	switch p.Action {
	case spd.ActionDiscard:
		return s.reject(ctx, b, stats.ReasonPolicyDiscard)
	case spd.ActionIPsec:
		if !satisfied(p, b.Meta.Steps(), &kn.Fam[fam]) {
			return s.reject(ctx, b, stats.ReasonPolicyMismatch)
		}
		return true
	}
	// none / bypass: only clear packets may match.
	if decap {
		return s.reject(ctx, b, stats.ReasonPolicyMismatch)
	}
	return true
}

func (s *inbound) reject(ctx *engine.Ctx, b *pkt.Buf, r stats.Reason) bool {
	s.st.count(r)
	ctx.Drop(b, r)
	return false
}

// satisfied reports whether the decapsulation history meets the policy:
// every transform the packet came through is one the policy asks for, and
// every request whose level is require or unique (or default with the
// knob at 2) was applied. The history holds every step, outer ones
// included, so an AH or ESP tunnel required by the policy of the inner
// packet is seen (unlike FreeBSD, whose check sees only the inner
// packet; ipsec(4) BUGS).
func satisfied(p *spd.Policy, steps []pkt.Step, kf *knobs.PerFamily) bool {
	for _, st := range steps {
		ok := false
		for k := range p.Requests {
			if stepMatches(&p.Requests[k], st) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for k := range p.Requests {
		r := &p.Requests[k]
		if !mandatory(r, kf) || r.Proto == sad.ProtoIPComp {
			// IPComp is never required inbound: the peer sends small or
			// incompressible packets without it (RFC 3173 §2.2), as
			// FreeBSD's ipsec_in_reject treats it.
			continue
		}
		found := false
		for _, st := range steps {
			if stepMatches(r, st) && (r.Level != spd.LevelUnique || r.ReqID == 0 || r.ReqID == st.ReqID) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func stepMatches(r *spd.Request, st pkt.Step) bool {
	if uint8(r.Proto) != st.Proto {
		return false
	}
	switch r.Mode {
	case sad.ModeTunnel:
		return st.Tunnel
	case sad.ModeTransport:
		return !st.Tunnel
	}
	return true
}

// mandatory resolves a request's level: use is optional, require and
// unique are not, default follows the *_deflev knobs (ipsec(4)).
func mandatory(r *spd.Request, kf *knobs.PerFamily) bool {
	switch r.Level {
	case spd.LevelUse:
		return false
	case spd.LevelRequire, spd.LevelUnique:
		return true
	}
	var lev int
	switch {
	case r.Proto == sad.ProtoESP && r.Mode == sad.ModeTunnel:
		lev = kf.ESPNetDeflev
	case r.Proto == sad.ProtoESP:
		lev = kf.ESPTransDeflev
	case r.Proto == sad.ProtoAH && r.Mode == sad.ModeTunnel:
		lev = kf.AHNetDeflev
	case r.Proto == sad.ProtoAH:
		lev = kf.AHTransDeflev
	default:
		lev = 1 // IPComp: the peer may send uncompressed (RFC 3173 §2.2)
	}
	return lev >= 2
}

// isIKE reports UDP to or from the IKE or NAT-T port (IKE travels in the
// clear; the keying daemon's packets bypass policy as FreeBSD's per-socket
// bypass policies make them).
func isIKE(data []byte, l4 uint8, off int) bool {
	if l4 != hdr.ProtoUDP || off+hdr.UDPLen > len(data) {
		return false
	}
	sp, dp := binary.BigEndian.Uint16(data[off:]), binary.BigEndian.Uint16(data[off+2:])
	if dp == portNATT || sp == portNATT {
		// ESP-in-UDP is not IKE: IKE on 4500 starts with the non-ESP marker.
		p := data[off+hdr.UDPLen:]
		return len(p) >= 4 && binary.BigEndian.Uint32(p) == 0
	}
	return dp == portIKE || sp == portIKE
}

func family(data []byte) knobs.Family {
	if data[0]>>4 == 6 {
		return knobs.V6
	}
	return knobs.V4
}

// addrs returns the source and destination of an IP packet.
func addrs(data []byte) (src, dst netip.Addr) {
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		return netip.AddrFrom4(ip.Src()), netip.AddrFrom4(ip.Dst())
	}
	ip := hdr.IPv6(data)
	return netip.AddrFrom16(ip.Src()), netip.AddrFrom16(ip.Dst())
}

func dstAddr(data []byte) netip.Addr {
	_, d := addrs(data)
	return d
}
