package stage

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

func req(p sad.Proto, m sad.Mode, l spd.Level) spd.Request {
	return spd.Request{Proto: p, Mode: m, Level: l}
}

func hstep(p uint8, tunnel bool) pkt.Step {
	return pkt.Step{Proto: p, Tunnel: tunnel, SPI: 0x1000, ReqID: 1}
}

// TestSatisfied checks inbound policies against decapsulation histories
// (outermost step first).
func TestSatisfied(t *testing.T) {
	const (
		esp  = sad.ProtoESP
		ah   = sad.ProtoAH
		comp = sad.ProtoIPComp
		tun  = sad.ModeTunnel
		tra  = sad.ModeTransport
		any  = sad.ModeAny
	)
	def := knobs.Defaults().Fam[knobs.V4]
	strict := def
	strict.AHNetDeflev, strict.ESPTransDeflev = 2, 2
	for _, c := range []struct {
		name  string
		reqs  []spd.Request
		steps []pkt.Step
		kf    knobs.PerFamily
		want  bool
	}{
		// ipsec(4) BUGS: "require" AH over a tunnel. FreeBSD checks the
		// inner packet only and rejects it; the history carries the step.
		{"ah tunnel require", []spd.Request{req(ah, tun, spd.LevelRequire)}, []pkt.Step{hstep(hdr.ProtoAH, true)}, def, true},
		{"ah tunnel require, clear", []spd.Request{req(ah, tun, spd.LevelRequire)}, nil, def, false},
		{"ah tunnel require, got transport", []spd.Request{req(ah, tun, spd.LevelRequire)}, []pkt.Step{hstep(hdr.ProtoAH, false)}, def, false},
		{"ah tunnel require, got esp", []spd.Request{req(ah, tun, spd.LevelRequire)}, []pkt.Step{hstep(hdr.ProtoESP, true)}, def, false},
		{"esp+ah transport", []spd.Request{req(esp, tra, spd.LevelRequire), req(ah, tra, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoAH, false), hstep(hdr.ProtoESP, false)}, def, true},
		{"esp+ah transport, ah missing", []spd.Request{req(esp, tra, spd.LevelRequire), req(ah, tra, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoESP, false)}, def, false},
		{"esp+ah, ah use, missing", []spd.Request{req(esp, tra, spd.LevelRequire), req(ah, tra, spd.LevelUse)},
			[]pkt.Step{hstep(hdr.ProtoESP, false)}, def, true},
		{"ipcomp tunnel + esp transport", []spd.Request{req(comp, tun, spd.LevelUse), req(esp, tra, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoESP, false), hstep(hdr.ProtoIPComp, true)}, def, true},
		{"ipcomp require, sent uncompressed (no step)", []spd.Request{req(comp, tra, spd.LevelRequire), req(esp, tra, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoESP, false)}, def, true},
		{"unrequested ipcomp step", []spd.Request{req(esp, tra, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoESP, false), hstep(hdr.ProtoIPComp, false)}, def, false},
		{"default level, knob 1", []spd.Request{req(ah, tun, spd.LevelDefault)}, nil, def, true},
		{"default level, knob 2", []spd.Request{req(ah, tun, spd.LevelDefault)}, nil, strict, false},
		{"default level, knob 2, applied", []spd.Request{req(ah, tun, spd.LevelDefault)}, []pkt.Step{hstep(hdr.ProtoAH, true)}, strict, true},
		{"any mode", []spd.Request{req(ah, any, spd.LevelRequire)}, []pkt.Step{hstep(hdr.ProtoAH, false)}, def, true},
		{"nested ah tunnel over esp tunnel", []spd.Request{req(ah, tun, spd.LevelRequire), req(esp, tun, spd.LevelRequire)},
			[]pkt.Step{hstep(hdr.ProtoAH, true), hstep(hdr.ProtoESP, true)}, def, true},
	} {
		p := &spd.Policy{Action: spd.ActionIPsec, Requests: c.reqs}
		if got := satisfied(p, c.steps, &c.kf); got != c.want {
			t.Errorf("%s: satisfied = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestProtoEnabled maps each protocol to its knob.
func TestProtoEnabled(t *testing.T) {
	kn := knobs.Defaults()
	for _, p := range []sad.Proto{sad.ProtoESP, sad.ProtoAH, sad.ProtoIPComp} {
		if !protoEnabled(p, &kn) {
			t.Errorf("%v disabled by default", p)
		}
	}
	for name, p := range map[string]sad.Proto{"net.inet.esp.esp_enable": sad.ProtoESP, "net.inet.ah.ah_enable": sad.ProtoAH, "net.inet.ipcomp.ipcomp_enable": sad.ProtoIPComp} {
		off, err := kn.With(name, "0")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []sad.Proto{sad.ProtoESP, sad.ProtoAH, sad.ProtoIPComp} {
			if protoEnabled(q, &off) != (q != p) {
				t.Errorf("%s=0: %v enabled = %v", name, q, protoEnabled(q, &off))
			}
		}
	}
}

// TestXformCounters maps drop reasons to the ahstat and ipcompstat
// counters FreeBSD keeps.
func TestXformCounters(t *testing.T) {
	st := NewStats()
	a, c := st.coreAH(0), st.coreIPComp(0)
	for _, r := range []stats.Reason{stats.ReasonProtoDisabled, stats.ReasonBadICV, stats.ReasonBadAHLength, stats.ReasonReplay, stats.ReasonNoSA} {
		a.count(r)
	}
	for _, r := range []stats.Reason{stats.ReasonProtoDisabled, stats.ReasonDecompress, stats.ReasonIPTruncated} {
		c.count(r)
	}
	at, ct := st.AH(), st.IPComp()
	if at.Noxform != 1 || at.Badauth != 1 || at.Badauthl != 1 || at.Replay != 1 || at.Notdb != 1 {
		t.Errorf("ahstat %+v", at)
	}
	if ct.Noxform != 1 || ct.Crypto != 1 || ct.Hdrops != 1 {
		t.Errorf("ipcompstat %+v", ct)
	}
}
