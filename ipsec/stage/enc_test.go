package stage

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// encFixture is one core's outbound and inbound stage sharing an enc0,
// with a tunnel-mode and a transport-mode AES-GCM SA.
type encFixture struct {
	ifc         *enc.Interface
	kn          *knobs.Holder
	out         *outbound
	in          *inbound
	ctx         *engine.Ctx
	pool        *pkt.Pool
	tun, trans  *sad.SA
	tunPol      *spd.Policy
	transPolicy *spd.Policy
}

func newEncFixture(t testing.TB, withEnc bool) *encFixture {
	t.Helper()
	f := &encFixture{kn: knobs.NewHolder(knobs.Defaults()), pool: pkt.NewPool("t", 1024, 0)}
	d := &Deps{SAD: sad.NewStore(), SPD: spd.NewStore(), Knobs: f.kn, Stats: NewStats()}
	if withEnc {
		f.ifc = enc.New("enc0")
		d.Enc = f.ifc
	}
	f.out, f.in = newOutbound(d, 0), newInbound(d, 0)
	f.ctx = &engine.Ctx{Stats: &stats.Core{}, Cache: f.pool.NewCache()}
	key := make([]byte, 20)
	mk := func(spi uint32, mode sad.Mode, src, dst string) *sad.SA {
		sa, err := sad.New(sad.Config{SPI: spi, Proto: sad.ProtoESP, Mode: mode, Src: netip.MustParseAddr(src),
			Dst: netip.MustParseAddr(dst), Enc: alg.EncAESGCM16, EncKey: key}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return sa
	}
	f.tun = mk(0x1001, sad.ModeTunnel, "198.51.100.1", "198.51.100.2")
	f.trans = mk(0x2002, sad.ModeTransport, "192.0.2.1", "203.0.113.9")
	f.tunPol = &spd.Policy{Action: spd.ActionIPsec, Requests: []spd.Request{{Proto: sad.ProtoESP, Mode: sad.ModeTunnel}}}
	f.transPolicy = &spd.Policy{Action: spd.ActionIPsec, Requests: []spd.Request{{Proto: sad.ProtoESP, Mode: sad.ModeTransport}}}
	return f
}

// udp4 is an IPv4/UDP packet with the engine's L4 hint.
func (f *encFixture) udp4(t testing.TB, src, dst string, dport uint16) *pkt.Buf {
	p := make([]byte, 28+32)
	p[0], p[8], p[9] = 0x45, 64, hdr.ProtoUDP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[10:], hdr.Checksum(p[:20], 0))
	binary.BigEndian.PutUint16(p[20:], 5000)
	binary.BigEndian.PutUint16(p[22:], dport)
	binary.BigEndian.PutUint16(p[24:], 8+32)
	b := f.pool.Get()
	if b == nil || !b.SetBytes(p) {
		t.Fatal("no buffer")
	}
	b.Meta.L4Proto, b.Meta.L4Off = hdr.ProtoUDP, 20
	return b
}

// encapBurst runs bufs (alternately tunnel and transport) through the
// outbound stage's encap step as the stage would, and reports which
// slots left encrypted.
func (f *encFixture) encapBurst(bufs []*pkt.Buf) []bool {
	s := f.out
	s.pol = s.pol[:0]
	s.v4.reset()
	for i, b := range bufs {
		if b == nil {
			s.pol = append(s.pol, nil)
			continue
		}
		if i%2 == 0 {
			s.pol = append(s.pol, f.tunPol)
			s.v4.add(i, b, f.tun)
		} else {
			s.pol = append(s.pol, f.transPolicy)
			s.v4.add(i, b, f.trans)
		}
	}
	s.encap(f.ctx, bufs, &s.v4, f.kn.Load())
	out := make([]bool, len(bufs))
	for i, b := range bufs {
		out[i] = b != nil && b.Meta.Flags&pkt.FlagEncapsulated != 0
	}
	return out
}

func TestOutboundEncFilter(t *testing.T) {
	f := newEncFixture(t, true)
	rules, err := enc.ParseRules("t", "drop out proto udp to any port 53\ndrop in all\n")
	if err != nil {
		t.Fatal(err)
	}
	f.ifc.SetRules(rules)
	burst := func() []*pkt.Buf {
		return []*pkt.Buf{
			f.udp4(t, "192.0.2.1", "203.0.113.9", 53), // tunnel: filtered only with filtertunnel
			f.udp4(t, "192.0.2.1", "203.0.113.9", 53), // transport: dropped
			f.udp4(t, "192.0.2.1", "203.0.113.9", 80), // tunnel: passes
			f.udp4(t, "192.0.2.1", "203.0.113.9", 80), // transport: passes
		}
	}
	got := f.encapBurst(burst())
	if want := []bool{true, false, true, true}; !equal(got, want) {
		t.Fatalf("filtertunnel=0: encrypted %v, want %v", got, want)
	}
	if d := f.ctx.Stats.Drops(stats.ReasonEncFilter); d != 1 {
		t.Fatalf("enc-filter drops %d, want 1", d)
	}
	if err := f.kn.Set("net.inet.ipsec.filtertunnel", "1"); err != nil {
		t.Fatal(err)
	}
	got = f.encapBurst(burst())
	if want := []bool{false, false, true, true}; !equal(got, want) {
		t.Fatalf("filtertunnel=1: encrypted %v, want %v", got, want)
	}
	if d := f.ctx.Stats.Drops(stats.ReasonEncFilter); d != 3 {
		t.Fatalf("enc-filter drops %d, want 3", d)
	}
	_, hits := f.ifc.Rules()
	if hits[0] != 3 || hits[1] != 0 {
		t.Errorf("rule hits %v", hits)
	}
	// A packet already carrying a transform (second SA of a bundle) is
	// not shown to enc0 again.
	b := f.udp4(t, "192.0.2.1", "203.0.113.9", 53)
	b.Meta.Flags |= pkt.FlagEncapsulated
	if got := f.encapBurst([]*pkt.Buf{nil, b}); !got[1] {
		t.Error("second transform of a bundle filtered")
	}
}

func TestOutboundEncCapture(t *testing.T) {
	f := newEncFixture(t, true)
	c, err := f.ifc.StartCapture(enc.CaptureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	plain := f.udp4(t, "192.0.2.1", "203.0.113.9", 80)
	want := append([]byte(nil), plain.Bytes()...)
	f.encapBurst([]*pkt.Buf{plain, f.udp4(t, "192.0.2.1", "203.0.113.9", 81)})
	var got []enc.Packet
	c.Poll(func(p *enc.Packet) bool {
		q := *p
		q.Data = append([]byte(nil), p.Data...)
		got = append(got, q)
		return true
	})
	if len(got) != 2 {
		t.Fatalf("captured %d packets, want 2", len(got))
	}
	if string(got[0].Data) != string(want) || got[0].SPI != 0x1001 || got[0].Dir != enc.DirOut ||
		got[0].Flags != enc.FlagConf|enc.FlagAuth {
		t.Errorf("captured %+v, want the plaintext with SPI 0x1001 out", got[0])
	}
	if got[1].SPI != 0x2002 {
		t.Errorf("second packet SPI %#x", got[1].SPI)
	}
}

func TestInboundEncFilter(t *testing.T) {
	f := newEncFixture(t, true)
	rules, _ := enc.ParseRules("t", "drop in proto udp to any port 53 spi 0x1001\ndrop in spi 0x2002\n")
	f.ifc.SetRules(rules)
	c, _ := f.ifc.StartCapture(enc.CaptureOptions{})
	defer c.Close()
	f.kn.Set("net.inet.ipsec.filtertunnel", "1")
	mk := func(dport uint16, st pkt.Step) *pkt.Buf {
		b := f.udp4(t, "203.0.113.9", "192.0.2.1", dport)
		b.Meta.AddStep(pkt.Step{Proto: 50, Tunnel: true, SPI: 0x7777}) // outer transform
		b.Meta.AddStep(st)
		return b
	}
	bufs := []*pkt.Buf{
		mk(53, pkt.Step{Proto: 50, SPI: 0x1001}),
		mk(80, pkt.Step{Proto: 50, SPI: 0x1001}),
		mk(80, pkt.Step{Proto: 50, SPI: 0x2002}),
		f.udp4(t, "203.0.113.9", "192.0.2.1", 53), // never decapsulated: not enc0's
	}
	f.in.enc.load()
	for _, b := range bufs[:3] {
		f.in.enc.saw(b, f.tun)
	}
	f.in.encFilter(f.ctx, bufs, f.kn.Load())
	if bufs[0] != nil || bufs[1] == nil || bufs[2] != nil || bufs[3] == nil {
		t.Fatalf("survivors %v, want slots 1 and 3", bufs)
	}
	if d := f.ctx.Stats.Drops(stats.ReasonEncFilter); d != 2 {
		t.Fatalf("enc-filter drops %d, want 2", d)
	}
	var spis []uint32
	c.Poll(func(p *enc.Packet) bool {
		if p.Dir != enc.DirIn || p.Flags != enc.FlagConf|enc.FlagAuth {
			t.Errorf("captured %+v", p)
		}
		spis = append(spis, p.SPI)
		return true
	})
	if len(spis) != 3 || spis[0] != 0x1001 || spis[2] != 0x2002 {
		t.Errorf("captured SPIs %x, want the innermost of each", spis)
	}
	// filtertunnel 0: the packets came through a tunnel, so rules skip them.
	f.kn.Set("net.inet.ipsec.filtertunnel", "0")
	again := []*pkt.Buf{mk(53, pkt.Step{Proto: 50, SPI: 0x1001})}
	f.in.enc.load()
	f.in.encFilter(f.ctx, again, f.kn.Load())
	if again[0] == nil {
		t.Error("tunnel packet filtered with filtertunnel 0")
	}
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEncHookAllocs: the hooks allocate nothing per packet, idle or busy.
func TestEncHookAllocs(t *testing.T) {
	f := newEncFixture(t, true)
	rules, _ := enc.ParseRules("t", "drop out proto tcp\npass out proto udp to any port 80\n")
	bufs := make([]*pkt.Buf, 8)
	run := func() {
		for i := range bufs {
			bufs[i] = f.udp4(t, "192.0.2.1", "203.0.113.9", 80)
		}
		f.encapBurst(bufs)
		for i, b := range bufs {
			if b != nil {
				b.Free()
				bufs[i] = nil
			}
		}
	}
	// encapBurst's result slice is the test's own; measure the stage alone.
	measure := func(name string) {
		s := f.out
		allocs := testing.AllocsPerRun(200, func() {
			for i := range bufs {
				bufs[i] = f.udp4(t, "192.0.2.1", "203.0.113.9", 80)
			}
			s.pol = s.pol[:0]
			s.v4.reset()
			for i, b := range bufs {
				s.pol = append(s.pol, f.transPolicy)
				s.v4.add(i, b, f.trans)
			}
			s.encap(f.ctx, bufs, &s.v4, f.kn.Load())
			for i, b := range bufs {
				if b != nil {
					b.Free()
					bufs[i] = nil
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per burst", name, allocs)
		}
	}
	run()
	measure("idle")
	f.ifc.SetRules(rules)
	measure("rules")
	c, _ := f.ifc.StartCapture(enc.CaptureOptions{Slots: 4})
	defer c.Close()
	measure("rules+capture (ring full)")
}

// BenchmarkEncHook measures the outbound enc0 hook alone on a 32-packet
// burst: no enc0, an idle enc0, rules, rules with a capture.
func BenchmarkEncHook(b *testing.B) {
	rules, _ := enc.ParseRules("t", `
drop out proto tcp to any port 22
drop out proto udp from 10.0.0.0/8
drop out spi 0x9999
pass out proto udp to 203.0.113.0/24 port 80
`)
	for _, mode := range []string{"no-enc", "idle", "rules", "rules+capture"} {
		b.Run(mode, func(b *testing.B) {
			f := newEncFixture(b, mode != "no-enc")
			if mode == "rules" || mode == "rules+capture" {
				f.ifc.SetRules(rules)
			}
			if mode == "rules+capture" {
				c, _ := f.ifc.StartCapture(enc.CaptureOptions{Slots: 64})
				stop := make(chan struct{})
				defer func() { close(stop); c.Close() }()
				go func() { // a consumer keeping up, as ipsecctl does
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							c.Poll(func(*enc.Packet) bool { return true })
						}
					}
				}()
			}
			bufs := make([]*pkt.Buf, pkt.BurstSize)
			for i := range bufs {
				bufs[i] = f.udp4(b, "192.0.2.1", "203.0.113.9", 80)
			}
			s, kn := f.out, f.kn.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.v4.reset()
				for i, p := range bufs {
					s.v4.add(i, p, f.trans)
				}
				s.pol = s.pol[:0]
				for range bufs {
					s.pol = append(s.pol, f.transPolicy)
				}
				s.encFilter(f.ctx, bufs, &s.v4, kn)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bufs)), "ns/pkt")
		})
	}
}

// BenchmarkOutboundEncap is the outbound encapsulation step (AES-GCM,
// transport mode, 32 packets of 60 bytes) with enc0 absent, idle, with
// rules and with rules and a capture: the hook's cost next to ESP's.
func BenchmarkOutboundEncap(b *testing.B) {
	rules, _ := enc.ParseRules("t", "drop out proto tcp to any port 22\ndrop out proto udp from 10.0.0.0/8\ndrop out spi 0x9999\npass out proto udp to 203.0.113.0/24 port 80\n")
	for _, mode := range []string{"no-enc", "idle", "rules", "rules+capture"} {
		b.Run(mode, func(b *testing.B) {
			f := newEncFixture(b, mode != "no-enc")
			if mode != "no-enc" && mode != "idle" {
				f.ifc.SetRules(rules)
			}
			if mode == "rules+capture" {
				c, _ := f.ifc.StartCapture(enc.CaptureOptions{Slots: 64})
				stop := make(chan struct{})
				defer func() { close(stop); c.Close() }()
				go func() {
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							c.Poll(func(*enc.Packet) bool { return true })
						}
					}
				}()
			}
			tmpl := f.udp4(b, "192.0.2.1", "203.0.113.9", 80)
			plain := append([]byte(nil), tmpl.Bytes()...)
			bufs := make([]*pkt.Buf, pkt.BurstSize)
			for i := range bufs {
				bufs[i] = f.pool.Get()
			}
			s, kn := f.out, f.kn.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.v4.reset()
				s.pol = s.pol[:0]
				for i, p := range bufs {
					p.SetBytes(plain)
					p.Meta.L4Proto, p.Meta.L4Off = hdr.ProtoUDP, 20
					s.v4.add(i, p, f.trans)
					s.pol = append(s.pol, f.transPolicy)
				}
				s.encap(f.ctx, bufs, &s.v4, kn)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bufs)), "ns/pkt")
		})
	}
}
