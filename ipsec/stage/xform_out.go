package stage

import (
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/ah"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// protoEnabled reads esp_enable, ah_enable or ipcomp_enable.
func protoEnabled(p sad.Proto, kn *knobs.Values) bool {
	switch p {
	case sad.ProtoESP:
		return kn.ESPEnable != 0
	case sad.ProtoAH:
		return kn.AHEnable != 0
	case sad.ProtoIPComp:
		return kn.IPCompEnable != 0
	}
	return false
}

// dropProto drops packet i for a request of protocol p and counts it with
// that protocol.
func (s *outbound) dropProto(ctx *engine.Ctx, bufs []*pkt.Buf, i int, p sad.Proto, r stats.Reason) {
	if p == sad.ProtoESP {
		s.drop(ctx, bufs, i, r)
		return
	}
	s.x.count(p, r)
	ctx.Drop(bufs[i], r)
	bufs[i] = nil
}

// xformOverhead is what AH or IPComp adds to a packet at most (IPComp
// never grows a payload: at most the tunnel's outer header).
func xformOverhead(sa *sad.SA) int {
	n := 0
	if sa.Proto == sad.ProtoAH && sa.Sess != nil {
		n = ah.HeaderLen(sa, sa.Dst.Is6())
	}
	if sa.Mode == sad.ModeTunnel {
		if sa.Dst.Is4() {
			n += hdr.IPv4MinLen
		} else {
			n += hdr.IPv6Len
		}
	}
	return n
}

// encapXform runs this round's AH and IPComp batches.
func (s *outbound) encapXform(ctx *engine.Ctx, bufs []*pkt.Buf, kn *knobs.Values) {
	x := s.x
	for k, bt := range [...]*batch{&x.ah4, &x.ah6} {
		s.encFilter(ctx, bufs, bt, kn) // enc0 sees packets whose first transform this is
		if len(bt.bufs) == 0 {
			continue
		}
		x.ah.Encap(bt.bufs, bt.sas, bt.res, ahOptions(kn, knobs.Family(k)))
		for _, e := range x.ah.Expired() {
			s.d.SAD.Raise(e.SA, e.Expiry)
		}
		for j, b := range bt.bufs {
			if r := bt.res[j]; r != stats.ReasonNone {
				s.dropProto(ctx, bufs, bt.idx[j], sad.ProtoAH, r)
				continue
			}
			sa := bt.sas[j]
			b.Meta.Flags |= pkt.FlagEncapsulated | pkt.FlagNoIPsec
			x.ahst.Output.Add(1)
			x.ahst.Obytes.Add(uint64(b.Len()))
			x.ahst.Hist[ahHistSlot(sa)].Add(1)
			if sa.Mode == sad.ModeTunnel {
				x.ahst.Tunnel.Add(1)
			}
		}
	}
	for k, bt := range [...]*batch{&x.co4, &x.co6} {
		s.encFilter(ctx, bufs, bt, kn) // enc0 sees packets whose first transform this is
		if len(bt.bufs) == 0 {
			continue
		}
		x.comp.Encap(bt.bufs, bt.sas, bt.res, compOptions(kn, knobs.Family(k)))
		c := x.comp.Counts()
		x.compst.Threshold.Add(uint64(c.Threshold))
		x.compst.Uncompr.Add(uint64(c.Uncompr))
		for j, b := range bt.bufs {
			if r := bt.res[j]; r != stats.ReasonNone {
				s.dropProto(ctx, bufs, bt.idx[j], sad.ProtoIPComp, r)
				continue
			}
			b.Meta.Flags |= pkt.FlagEncapsulated | pkt.FlagNoIPsec
			x.compst.Output.Add(1)
			x.compst.Obytes.Add(uint64(b.Len()))
			if b.Meta.L4Proto == hdr.ProtoIPComp {
				x.compst.Hist[bt.sas[j].Comp&3].Add(1)
			}
		}
	}
}
