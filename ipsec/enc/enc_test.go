package enc

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// packet builds an IPv4 or IPv6 packet with a TCP/UDP header (or just
// the protocol byte for others) and sets the L4 hint as the engine does.
func packet(t testing.TB, pool *pkt.Pool, src, dst string, proto uint8, sport, dport uint16) *pkt.Buf {
	t.Helper()
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	var p []byte
	var off int
	if s.Is4() {
		p = make([]byte, 20+8)
		p[0], p[8], p[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		a, b := s.As4(), d.As4()
		copy(p[12:], a[:])
		copy(p[16:], b[:])
		off = 20
	} else {
		p = make([]byte, 40+8)
		p[0], p[6], p[7] = 0x60, proto, 64
		binary.BigEndian.PutUint16(p[4:], 8)
		a, b := s.As16(), d.As16()
		copy(p[8:], a[:])
		copy(p[24:], b[:])
		off = 40
	}
	binary.BigEndian.PutUint16(p[off:], sport)
	binary.BigEndian.PutUint16(p[off+2:], dport)
	b := pool.Get()
	if !b.SetBytes(p) {
		t.Fatal("packet does not fit")
	}
	b.Meta.L4Proto, b.Meta.L4Off = proto, uint16(off)
	return b
}

func mustRules(t *testing.T, text string) []Rule {
	t.Helper()
	rs, err := ParseRules("test", text)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestParseStringRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pass", "pass all"},
		{"drop all", "drop all"},
		{"block in", "drop in all"},
		{"drop in proto tcp from 192.0.2.0/24 to any port 22", "drop in proto tcp from 192.0.2.0/24 to any port 22"},
		{"drop out proto udp from 192.0.2.7 port 1000:2000 to 203.0.113.9/32", "drop out proto udp from 192.0.2.7 port 1000-2000 to 203.0.113.9"},
		{"pass proto 47 to 2001:db8::/32 spi 4097", "pass proto gre to 2001:db8::/32 spi 0x1001"},
		{"drop from 192.0.2.77/24", "drop from 192.0.2.0/24"},
		{"pass proto icmp6 spi 0xffffffff", "pass proto icmp6 spi 0xffffffff"},
		{"pass proto any", "pass all"},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := r.String(); got != tc.want {
			t.Errorf("%q: String %q, want %q", tc.in, got, tc.want)
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Errorf("%q: reparse gives %+v, %v; want %+v", tc.in, again, err, r)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"allow", "must start with pass or drop"},
		{"pass sideways", "unexpected \"sideways\""},
		{"pass proto", "missing protocol"},
		{"pass proto bogus", "unknown protocol"},
		{"pass proto 256", "unknown protocol"},
		{"pass from 192.0.2.300", "invalid address"},
		{"pass from 192.0.2.0/33", "invalid prefix"},
		{"pass to any port 22", "port needs proto"},
		{"pass proto tcp to any port 30-20", "invalid port range"},
		{"pass proto tcp to any port 70000", "invalid port"},
		{"pass spi 0", "invalid SPI"},
		{"pass spi 0x100000000", "invalid SPI"},
		{"pass in out", "direction given twice"},
		{"pass from 192.0.2.1 to 2001:db8::1", "different address families"},
		{"pass from fe80::1%eth0", "invalid address"},
	} {
		if _, err := Parse(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.msg)
		}
	}
	_, err := ParseRules("rules.conf", "pass # fine\n\n  drop bogus\npass\nblock in proto x\n")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"rules.conf:3: unexpected \"bogus\"", "rules.conf:5: unknown protocol \"x\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestMatch is the rule matching table: first match wins, no match passes.
func TestMatch(t *testing.T) {
	pool := pkt.NewPool("t", 64, 0)
	rules := mustRules(t, `
pass in proto tcp from 192.0.2.10 to any port 22     # 0: ssh from the admin host
drop in proto tcp to any port 22                      # 1: other ssh
drop out proto udp from 192.0.2.0/24 port 53          # 2: outgoing DNS answers
drop spi 0x2002                                       # 3: one SA
drop proto icmp6 from 2001:db8:bad::/48               # 4
pass from 2001:db8::/32 to 2001:db8:1::/48            # 5
drop to 2001:db8:1::/48                               # 6
drop proto 47                                         # 7: GRE
`)
	ifc := New("enc0")
	tap := ifc.Attach()
	if err := ifc.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	v := tap.Load()
	type pk struct {
		src, dst     string
		proto        uint8
		sport, dport uint16
	}
	for i, tc := range []struct {
		p    pk
		dir  Dir
		spi  uint32
		pass bool
		rule int // -1: none matched
	}{
		{pk{"192.0.2.10", "203.0.113.1", hdr.ProtoTCP, 4000, 22}, DirIn, 0x1001, true, 0},
		{pk{"192.0.2.11", "203.0.113.1", hdr.ProtoTCP, 4000, 22}, DirIn, 0x1001, false, 1},
		{pk{"192.0.2.11", "203.0.113.1", hdr.ProtoTCP, 4000, 22}, DirOut, 0x1001, true, -1},
		{pk{"192.0.2.11", "203.0.113.1", hdr.ProtoTCP, 4000, 23}, DirIn, 0x1001, true, -1},
		{pk{"192.0.2.53", "203.0.113.1", hdr.ProtoUDP, 53, 4000}, DirOut, 0x1001, false, 2},
		{pk{"192.0.2.53", "203.0.113.1", hdr.ProtoUDP, 54, 4000}, DirOut, 0x1001, true, -1},
		{pk{"198.51.100.53", "203.0.113.1", hdr.ProtoUDP, 53, 4000}, DirOut, 0x1001, true, -1},
		{pk{"198.51.100.1", "203.0.113.1", hdr.ProtoUDP, 1, 2}, DirIn, 0x2002, false, 3},
		{pk{"2001:db8:bad::1", "2001:db8:1::1", hdr.ProtoICMPv6, 128, 0}, DirIn, 1, false, 4},
		{pk{"2001:db8:0:1::1", "2001:db8:1::1", hdr.ProtoUDP, 1, 2}, DirIn, 1, true, 5},
		{pk{"2001:db9::1", "2001:db8:1::1", hdr.ProtoUDP, 1, 2}, DirIn, 1, false, 6},
		{pk{"2001:db9::1", "2001:db8:2::1", hdr.ProtoUDP, 1, 2}, DirIn, 1, true, -1},
		{pk{"192.0.2.1", "192.0.2.2", 47, 0, 0}, DirOut, 1, false, 7},
		{pk{"2001:db9::1", "2001:db9::2", 47, 0, 0}, DirIn, 1, false, 7},
	} {
		_, before := ifc.Rules()
		b := packet(t, pool, tc.p.src, tc.p.dst, tc.p.proto, tc.p.sport, tc.p.dport)
		got := tap.Pass(v, b, &Info{Dir: tc.dir, SPI: tc.spi})
		b.Free()
		if got != tc.pass {
			t.Errorf("case %d %+v %s spi %#x: pass=%v, want %v", i, tc.p, tc.dir, tc.spi, got, tc.pass)
		}
		_, after := ifc.Rules()
		for r := range after {
			want := before[r]
			if r == tc.rule {
				want++
			}
			if after[r] != want {
				t.Errorf("case %d: rule %d hits %d -> %d, want %d", i, r, before[r], after[r], want)
			}
		}
	}
}

// TestOpaquePorts: a non-first fragment has no ports, so port rules
// never match it and rules without ports still do.
func TestOpaquePorts(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	tap := ifc.Attach()
	ifc.SetRules(mustRules(t, "drop proto udp to any port 53\ndrop proto tcp\n"))
	b := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 53)
	binary.BigEndian.PutUint16(b.Bytes()[6:], 100) // fragment offset 800
	if !tap.Pass(tap.Load(), b, &Info{Dir: DirIn}) {
		t.Error("port rule matched a non-first fragment")
	}
	b.Bytes()[9] = hdr.ProtoTCP
	b.Meta.L4Proto = hdr.ProtoTCP
	if tap.Pass(tap.Load(), b, &Info{Dir: DirIn}) {
		t.Error("protocol rule did not match a non-first fragment")
	}
}

// TestFilterTunnel: inner packets of tunnels are filtered only when the
// family's filtertunnel knob is on; transport-mode packets always are.
func TestFilterTunnel(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	tap := ifc.Attach()
	ifc.SetRules(mustRules(t, "drop all"))
	b := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 2)
	for _, tc := range []struct {
		tunnel, ft, pass bool
	}{
		{false, false, false},
		{false, true, false},
		{true, false, true},
		{true, true, false},
	} {
		for _, dir := range []Dir{DirIn, DirOut} {
			got := tap.Pass(tap.Load(), b, &Info{Dir: dir, Tunnel: tc.tunnel, FilterTunnel: tc.ft})
			if got != tc.pass {
				t.Errorf("%s tunnel=%v filtertunnel=%v: pass=%v, want %v", dir, tc.tunnel, tc.ft, got, tc.pass)
			}
		}
	}
}

func TestIdleViewIsNil(t *testing.T) {
	ifc := New("enc0")
	tap := ifc.Attach()
	if tap.Load() != nil {
		t.Fatal("view published with nothing to do")
	}
	ifc.SetRules(mustRules(t, "drop all"))
	if tap.Load() == nil {
		t.Fatal("no view with rules")
	}
	c, err := ifc.StartCapture(CaptureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ifc.SetRules(nil)
	if tap.Load() == nil {
		t.Fatal("no view with a capture")
	}
	c.Close()
	c.Close()
	if tap.Load() != nil {
		t.Fatal("view left after the capture closed and rules cleared")
	}
}

func TestCapture(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	t1, t2 := ifc.Attach(), ifc.Attach()
	ifc.SetRules(mustRules(t, "drop in all"))
	c, err := ifc.StartCapture(CaptureOptions{Snaplen: 30, Slots: 3}) // 4 slots
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b4 := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 2)
	b6 := packet(t, pool, "2001:db8::1", "2001:db8::2", hdr.ProtoUDP, 1, 2)
	// Dropped packets are captured too; the full ring counts drops.
	for range 6 {
		if t1.Pass(t1.Load(), b4, &Info{Dir: DirIn, SPI: 0x1001, Flags: FlagConf | FlagAuth}) {
			t.Fatal("drop rule did not drop")
		}
	}
	t2.Pass(t2.Load(), b6, &Info{Dir: DirOut, SPI: 0x2002, Flags: FlagConf})
	if d := c.Drops(); d != 2 {
		t.Errorf("drops %d, want 2", d)
	}
	var got []Packet
	n := c.Poll(func(p *Packet) bool {
		q := *p
		q.Data = append([]byte(nil), p.Data...)
		got = append(got, q)
		return true
	})
	if n != 5 || len(got) != 5 {
		t.Fatalf("polled %d packets, want 5", n)
	}
	for i, p := range got[:4] {
		if p.Dir != DirIn || p.SPI != 0x1001 || p.OrigLen != 28 || len(p.Data) != 28 || p.Time == 0 {
			t.Errorf("packet %d: %+v", i, p)
		}
	}
	p6 := got[4]
	if p6.Dir != DirOut || p6.SPI != 0x2002 || p6.OrigLen != 48 || len(p6.Data) != 30 {
		t.Errorf("IPv6 packet: dir %s spi %#x orig %d caplen %d", p6.Dir, p6.SPI, p6.OrigLen, len(p6.Data))
	}
	var h [HeaderLen]byte
	p6.Header(h[:])
	if binary.BigEndian.Uint32(h[0:]) != 24 || binary.BigEndian.Uint32(h[4:]) != 0x2002 || binary.BigEndian.Uint32(h[8:]) != FlagConf {
		t.Errorf("enc header %x", h)
	}
	got[0].Header(h[:])
	if binary.BigEndian.Uint32(h[0:]) != 2 {
		t.Errorf("IPv4 enc header %x", h)
	}
	if c.Poll(func(*Packet) bool { return true }) != 0 {
		t.Error("packets polled twice")
	}
	// Poll stops when fn says so and resumes where it stopped.
	for range 3 {
		t1.Pass(t1.Load(), b4, &Info{Dir: DirIn})
	}
	if n := c.Poll(func(*Packet) bool { return false }); n != 1 {
		t.Errorf("stopped poll handed %d", n)
	}
	if n := c.Poll(func(*Packet) bool { return true }); n != 2 {
		t.Errorf("resumed poll handed %d, want 2", n)
	}
}

func TestCaptureLimits(t *testing.T) {
	ifc := New("enc0")
	if _, err := ifc.StartCapture(CaptureOptions{Snaplen: 70000}); err == nil {
		t.Error("snaplen 70000 accepted")
	}
	if _, err := ifc.StartCapture(CaptureOptions{Slots: -1}); err == nil {
		t.Error("negative ring accepted")
	}
	big, err := ifc.StartCapture(CaptureOptions{Snaplen: MaxSnaplen, Slots: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(big.rings); n != 0 {
		t.Fatalf("%d rings without taps", n)
	}
	big.Close()
	ifc.Attach()
	big, _ = ifc.StartCapture(CaptureOptions{Snaplen: MaxSnaplen, Slots: 4096})
	if b := len(big.rings[0].slots) * cap(big.rings[0].slots[0].Data); b > maxRingBytes {
		t.Fatalf("a tap's ring holds %d bytes", b)
	}
	big.Close()
	var cs []*Capture
	for range maxCaptures {
		c, err := ifc.StartCapture(CaptureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if _, err := ifc.StartCapture(CaptureOptions{}); err == nil {
		t.Error("more captures than the limit")
	}
	for _, c := range cs {
		c.Close()
	}
}

// TestCaptureConcurrent runs a producer against a consumer (meaningful
// under -race): everything produced is either polled or counted dropped.
func TestCaptureConcurrent(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	tap := ifc.Attach()
	c, _ := ifc.StartCapture(CaptureOptions{Slots: 64})
	b := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 2)
	const total = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range total {
			tap.Pass(tap.Load(), b, &Info{Dir: DirOut, SPI: uint32(i)})
		}
	}()
	polled := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := -1
	check := func(p *Packet) bool {
		if int(p.SPI) <= last || len(p.Data) != 28 {
			t.Errorf("out of order or torn: spi %d after %d, %d bytes", p.SPI, last, len(p.Data))
		}
		last = int(p.SPI)
		polled++
		return true
	}
	for {
		select {
		case <-done:
			c.Poll(check)
			if uint64(polled)+c.Drops() != total {
				t.Fatalf("polled %d + dropped %d != %d", polled, c.Drops(), total)
			}
			c.Close()
			return
		default:
			c.Poll(check)
		}
	}
}

func TestPassAllocs(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	tap := ifc.Attach()
	ifc.SetRules(mustRules(t, "pass in proto tcp\ndrop proto udp from 2001:db8::/32\npass out spi 7\n"))
	c, _ := ifc.StartCapture(CaptureOptions{Slots: 16})
	defer c.Close()
	b := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 2)
	in := &Info{Dir: DirOut, SPI: 7}
	allocs := testing.AllocsPerRun(1000, func() {
		tap.Pass(tap.Load(), b, in)
		c.Poll(func(*Packet) bool { return true })
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per packet", allocs)
	}
}

// TestRulesBeforeAttach: rules set before the stages attach (from the
// config) filter and count on every tap.
func TestRulesBeforeAttach(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	ifc := New("enc0")
	ifc.SetRules(mustRules(t, "drop proto udp"))
	t1 := ifc.Attach()
	b := packet(t, pool, "192.0.2.1", "192.0.2.2", hdr.ProtoUDP, 1, 2)
	if t1.Pass(t1.Load(), b, &Info{Dir: DirIn}) {
		t.Fatal("rule set before Attach did not drop")
	}
	t2 := ifc.Attach()
	t2.Pass(t2.Load(), b, &Info{Dir: DirOut})
	t2.Pass(t2.Load(), b, &Info{Dir: DirOut})
	if _, hits := ifc.Rules(); hits[0] != 3 {
		t.Fatalf("hits %v, want 3 (one tap's count kept across the other's attach)", hits)
	}
}
