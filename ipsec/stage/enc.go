package stage

import (
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// encHook is a stage instance's view of enc0: its tap and the view loaded
// for the current burst (nil when enc0 has no rules and no capture, or
// when there is no enc0).
type encHook struct {
	tap  *enc.Tap
	view *enc.View
}

func newEncHook(d *Deps) encHook {
	if d.Enc == nil {
		return encHook{}
	}
	return encHook{tap: d.Enc.Attach()}
}

// load reads the published view once per burst (one atomic load).
func (h *encHook) load() {
	if h.tap != nil {
		h.view = h.tap.Load()
	}
}

// saw notes how the SA that was just removed protected b, for the enc
// header of a capture (the packet's Cookie belongs to this stage).
func (h *encHook) saw(b *pkt.Buf, sa *sad.SA) {
	if h.view != nil {
		b.Meta.Cookie = uint64(encFlags(sa))
	}
}

// encFlags are an SA's protections as the enc header's flags.
func encFlags(sa *sad.SA) uint32 {
	switch sa.Proto {
	case sad.ProtoAH:
		return enc.FlagAuth | enc.FlagAuthAH
	case sad.ProtoIPComp:
		return enc.FlagComp
	}
	var f uint32
	if sa.Enc != alg.EncNull && sa.Enc != alg.EncAESGMAC {
		f |= enc.FlagConf
	}
	if d := sa.Enc.Desc(); (d != nil && d.AEAD) || sa.Auth > alg.AuthNull {
		f |= enc.FlagAuth
	}
	return f
}

// encFilter shows enc0 every packet that came out of its last
// decapsulation, dropping those its rules refuse.
func (s *inbound) encFilter(ctx *engine.Ctx, bufs []*pkt.Buf, kn *knobs.Values) {
	v := s.enc.view
	if v == nil {
		return
	}
	for i, b := range bufs {
		if b == nil || b.Meta.HistoryLen == 0 {
			continue
		}
		steps := b.Meta.Steps()
		in := enc.Info{Dir: enc.DirIn, SPI: steps[len(steps)-1].SPI, Flags: uint32(b.Meta.Cookie),
			FilterTunnel: kn.Fam[family(b.Bytes())].FilterTunnel != 0}
		for _, st := range steps {
			in.Tunnel = in.Tunnel || st.Tunnel
		}
		if !s.enc.tap.Pass(v, b, &in) {
			s.drop(ctx, bufs, i, stats.ReasonEncFilter)
		}
	}
}

// encFilter shows enc0 the packets of a batch about to get their first
// transform (still in the clear) and takes those its rules refuse out of
// the batch.
func (s *outbound) encFilter(ctx *engine.Ctx, bufs []*pkt.Buf, bt *batch, kn *knobs.Values) {
	if s.enc.tap == nil || len(bt.bufs) == 0 {
		return
	}
	v := s.enc.tap.Load()
	if v == nil {
		return
	}
	n := 0
	for j, b := range bt.bufs {
		sa, i := bt.sas[j], bt.idx[j]
		if b.Meta.Flags&pkt.FlagEncapsulated == 0 {
			in := enc.Info{Dir: enc.DirOut, SPI: sa.SPI, Flags: encFlags(sa),
				Tunnel: sa.Mode == sad.ModeTunnel || hasTunnel(s.pol[i]), FilterTunnel: kn.Fam[family(b.Bytes())].FilterTunnel != 0}
			if !s.enc.tap.Pass(v, b, &in) {
				s.drop(ctx, bufs, i, stats.ReasonEncFilter)
				continue
			}
		}
		bt.bufs[n], bt.sas[n], bt.res[n], bt.idx[n] = b, sa, bt.res[j], i
		n++
	}
	clear(bt.bufs[n:])
	clear(bt.sas[n:])
	bt.bufs, bt.sas, bt.res, bt.idx = bt.bufs[:n], bt.sas[:n], bt.res[:n], bt.idx[:n]
}

// hasTunnel reports whether a policy's bundle ends in a tunnel.
func hasTunnel(p *spd.Policy) bool {
	if p == nil {
		return false
	}
	for k := range p.Requests {
		if p.Requests[k].Mode == sad.ModeTunnel {
			return true
		}
	}
	return false
}
