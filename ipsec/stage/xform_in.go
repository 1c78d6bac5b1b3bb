package stage

import (
	"encoding/binary"
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/ah"
	"github.com/fastipsec/fastipsec/ipsec/ipcomp"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// xforms is one core's AH and IPComp workers, counters and batches (per
// outer family), shared in shape by the inbound and outbound stages.
type xforms struct {
	ah       *ah.Processor
	comp     *ipcomp.Processor
	ahst     *AHStats
	compst   *IPCompStats
	ah4, ah6 batch
	co4, co6 batch
}

func newXforms(d *Deps, core int) *xforms {
	return &xforms{ah: ah.NewProcessor(d.engine()), comp: ipcomp.NewProcessor(),
		ahst: d.Stats.coreAH(core), compst: d.Stats.coreIPComp(core),
		ah4: newBatch(), ah6: newBatch(), co4: newBatch(), co6: newBatch()}
}

func (x *xforms) reset() {
	x.ah4.reset()
	x.ah6.reset()
	x.co4.reset()
	x.co6.reset()
}

func (x *xforms) empty() bool {
	return len(x.ah4.bufs)+len(x.ah6.bufs)+len(x.co4.bufs)+len(x.co6.bufs) == 0
}

// add puts packet i with sa in the batch of sa's protocol and family.
func (x *xforms) add(i int, b *pkt.Buf, sa *sad.SA) {
	switch {
	case sa.Proto == sad.ProtoAH && sa.Dst.Is4():
		x.ah4.add(i, b, sa)
	case sa.Proto == sad.ProtoAH:
		x.ah6.add(i, b, sa)
	case sa.Dst.Is4():
		x.co4.add(i, b, sa)
	default:
		x.co6.add(i, b, sa)
	}
}

// count charges a drop to the protocol's counters.
func (x *xforms) count(proto sad.Proto, r stats.Reason) {
	if proto == sad.ProtoAH {
		x.ahst.count(r)
	} else {
		x.compst.count(r)
	}
}

func ahOptions(kn *knobs.Values, fam knobs.Family) ah.Options {
	o := ah.Options{ClearTOS: kn.AHClearTOS != 0, OffsetMask: uint16(kn.AHOffsetMask)}
	o.DFBit, o.ECN = kn.DFBit, kn.Fam[fam].ECN != 0
	return o
}

func compOptions(kn *knobs.Values, fam knobs.Family) ipcomp.Options {
	o := ipcomp.Options{MinLen: kn.IPCompMinLen, Fast: kn.IPCompFast != 0}
	o.DFBit, o.ECN = kn.DFBit, kn.Fam[fam].ECN != 0
	return o
}

// collectXform takes a packet for the router that carries AH or IPComp,
// or plain IP-in-IP from the peer of an IPComp tunnel (RFC 3173 §2.2),
// into its batch, or drops it; it reports false when the packet is none
// of these (left for the ESP path and local delivery).
func (s *inbound) collectXform(ctx *engine.Ctx, bufs []*pkt.Buf, i int, kn *knobs.Values) bool {
	b := bufs[i]
	data := b.Bytes()
	off := int(b.Meta.L4Off)
	src, dst := addrs(data)
	var proto sad.Proto
	var sa *sad.SA
	switch b.Meta.L4Proto {
	case hdr.ProtoAH:
		proto = sad.ProtoAH
		if off+hdr.AHMinLen > len(data) {
			s.dropXform(ctx, bufs, i, proto, stats.ReasonIPTruncated)
			return true
		}
		if kn.AHEnable == 0 {
			s.dropXform(ctx, bufs, i, proto, stats.ReasonProtoDisabled)
			return true
		}
		sa = s.d.SAD.Inbound(sad.ProtoAH, binary.BigEndian.Uint32(data[off+4:]), dst, src)
	case hdr.ProtoIPComp:
		proto = sad.ProtoIPComp
		if off+hdr.IPCompLen > len(data) {
			s.dropXform(ctx, bufs, i, proto, stats.ReasonIPTruncated)
			return true
		}
		if kn.IPCompEnable == 0 {
			s.dropXform(ctx, bufs, i, proto, stats.ReasonProtoDisabled)
			return true
		}
		sa = s.compSA(hdr.IPComp(data[off:]).CPI(), src, dst, kn)
	case hdr.ProtoIPIP, hdr.ProtoIPv6:
		proto = sad.ProtoIPComp
		sa = s.d.SAD.Outbound(sad.ProtoIPComp, sad.ModeTunnel, src, dst, 0, kn.PreferredOld != 0)
		if sa == nil {
			return false // plain IP-in-IP to the router, nothing of ours
		}
		if kn.IPCompEnable == 0 {
			s.dropXform(ctx, bufs, i, proto, stats.ReasonProtoDisabled)
			return true
		}
	default:
		return false
	}
	switch {
	case sa == nil:
		s.dropXform(ctx, bufs, i, proto, stats.ReasonNoSA)
		return true
	case !sa.Usable():
		s.dropXform(ctx, bufs, i, proto, stats.ReasonSAExpired)
		return true
	}
	s.x.add(i, b, sa)
	return true
}

// compSA finds the IPComp SA of an inbound packet: by CPI when it is a
// negotiated one (or an SA was installed with that SPI and -R), else, for
// the well-known CPI, the SA between the packet's addresses that puts it
// on the wire.
func (s *inbound) compSA(cpi uint16, src, dst netip.Addr, kn *knobs.Values) *sad.SA {
	if sa := s.d.SAD.Inbound(sad.ProtoIPComp, uint32(cpi), dst, src); sa != nil && sa.RawCPI {
		return sa
	}
	if cpi >= 256 {
		return nil
	}
	sa := s.d.SAD.Outbound(sad.ProtoIPComp, sad.ModeAny, src, dst, 0, kn.PreferredOld != 0)
	if sa == nil || sa.RawCPI || uint16(sa.Comp) != cpi {
		return nil
	}
	return sa
}

func (s *inbound) dropXform(ctx *engine.Ctx, bufs []*pkt.Buf, i int, proto sad.Proto, r stats.Reason) {
	s.x.count(proto, r)
	ctx.Drop(bufs[i], r)
	bufs[i] = nil
}

// decapXform runs this round's AH and IPComp batches.
func (s *inbound) decapXform(ctx *engine.Ctx, bufs []*pkt.Buf, kn *knobs.Values) {
	x := s.x
	for k, bt := range [...]*batch{&x.ah4, &x.ah6} {
		if len(bt.bufs) == 0 {
			continue
		}
		x.ah.Decap(bt.bufs, bt.sas, bt.res, ahOptions(kn, knobs.Family(k)))
		for _, e := range x.ah.Expired() {
			s.d.SAD.Raise(e.SA, e.Expiry)
		}
		for j, b := range bt.bufs {
			if r := bt.res[j]; r != stats.ReasonNone {
				s.dropXform(ctx, bufs, bt.idx[j], sad.ProtoAH, r)
				continue
			}
			sa := bt.sas[j]
			x.ahst.Input.Add(1)
			x.ahst.Ibytes.Add(uint64(b.Len()))
			x.ahst.Hist[ahHistSlot(sa)].Add(1)
			if sa.Mode == sad.ModeTunnel {
				x.ahst.Tunnel.Add(1)
			}
			s.relocal(ctx, b, bt.idx[j])
		}
	}
	for k, bt := range [...]*batch{&x.co4, &x.co6} {
		// One call per SA run: the MTU towards the peer bounds inflation.
		for i := 0; i < len(bt.bufs); {
			j := i + 1
			for j < len(bt.bufs) && bt.sas[j] == bt.sas[i] {
				j++
			}
			opt := compOptions(kn, knobs.Family(k))
			if mtu, ok := ctx.RouteMTU(bt.sas[i].Src); ok {
				opt.MaxLen = mtu
			}
			x.comp.Decap(bt.bufs[i:j], bt.sas[i:j], bt.res[i:j], opt)
			i = j
		}
		for j, b := range bt.bufs {
			if r := bt.res[j]; r != stats.ReasonNone {
				s.dropXform(ctx, bufs, bt.idx[j], sad.ProtoIPComp, r)
				continue
			}
			x.compst.Input.Add(1)
			x.compst.Ibytes.Add(uint64(b.Len()))
			x.compst.Hist[ipcomp.CPIDeflate].Add(1)
			s.relocal(ctx, b, bt.idx[j])
		}
	}
}

// relocal decides whether the packet now in the buffer is for the router
// again (nested transforms).
func (s *inbound) relocal(ctx *engine.Ctx, b *pkt.Buf, i int) {
	s.local[i] = ctx.IsLocal(dstAddr(b.Bytes()))
	if s.local[i] {
		b.Meta.Flags |= pkt.FlagToLocal
	} else {
		b.Meta.Flags &^= pkt.FlagToLocal
	}
}
