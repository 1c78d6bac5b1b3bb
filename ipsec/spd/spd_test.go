package spd

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/sad"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func sel(src, dst string, proto int, sp, dp PortRange) Selector {
	return Selector{Src: pfx(src), Dst: pfx(dst), Proto: proto, SrcPort: sp, DstPort: dp}
}

func port(p uint16) PortRange { return PortRange{p, p} }

func key(src, dst string, proto uint8, sp, dp uint16) Key {
	return KeyFor(netip.MustParseAddr(src), netip.MustParseAddr(dst), proto, sp, dp)
}

func mustAdd(t *testing.T, s *Store, p Policy) Policy {
	t.Helper()
	got, err := s.Add(p)
	if err != nil {
		t.Fatalf("Add %v: %v", p.Selector, err)
	}
	return got
}

func TestLookupTable(t *testing.T) {
	type pol struct {
		name string
		dir  Dir
		prio int32
		sel  Selector
	}
	type probe struct {
		dir  Dir
		k    Key
		want string // policy name, "" for none
	}
	tests := []struct {
		name   string
		pols   []pol
		probes []probe
	}{
		{
			name: "broad high priority shadows specific low",
			pols: []pol{
				{"specific", DirOut, 0, sel("10.0.0.1/32", "10.0.1.1/32", 6, AnyPort, port(443))},
				{"broad", DirOut, 10, sel("10.0.0.0/8", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)},
			},
			probes: []probe{
				{DirOut, key("10.0.0.1", "10.0.1.1", 6, 1234, 443), "broad"},
				{DirOut, key("11.0.0.1", "10.0.1.1", 6, 1234, 443), ""},
				{DirIn, key("10.0.0.1", "10.0.1.1", 6, 1234, 443), ""},
			},
		},
		{
			name: "equal priority: earlier wins, not the most specific",
			pols: []pol{
				{"broad", DirOut, 0, sel("10.0.0.0/8", "10.0.0.0/8", AnyProto, AnyPort, AnyPort)},
				{"specific", DirOut, 0, sel("10.0.0.1/32", "10.0.1.1/32", 6, AnyPort, port(443))},
			},
			probes: []probe{
				{DirOut, key("10.0.0.1", "10.0.1.1", 6, 1234, 443), "broad"},
			},
		},
		{
			name: "equal priority: earlier specific wins over later broad",
			pols: []pol{
				{"specific", DirOut, 0, sel("10.0.0.1/32", "10.0.1.1/32", 6, AnyPort, port(443))},
				{"broad", DirOut, 0, sel("10.0.0.0/8", "10.0.0.0/8", AnyProto, AnyPort, AnyPort)},
				{"low", DirOut, -5, sel("0.0.0.0/0", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)},
			},
			probes: []probe{
				{DirOut, key("10.0.0.1", "10.0.1.1", 6, 1234, 443), "specific"},
				{DirOut, key("10.0.0.1", "10.0.1.1", 6, 1234, 80), "broad"},
				{DirOut, key("10.0.0.1", "10.0.1.1", 17, 1234, 443), "broad"},
				{DirOut, key("172.16.0.1", "10.0.1.1", 17, 1234, 443), "low"},
			},
		},
		{
			name: "any protocol vs exact",
			pols: []pol{
				{"tcp", DirIn, 0, sel("192.0.2.0/24", "198.51.100.0/24", 6, AnyPort, AnyPort)},
				{"any", DirIn, 0, sel("192.0.2.0/24", "198.51.100.0/24", AnyProto, AnyPort, AnyPort)},
			},
			probes: []probe{
				{DirIn, key("192.0.2.9", "198.51.100.7", 6, 1, 2), "tcp"},
				{DirIn, key("192.0.2.9", "198.51.100.7", 17, 1, 2), "any"},
				{DirIn, key("192.0.2.9", "198.51.100.7", 50, 0, 0), "any"},
			},
		},
		{
			name: "port ranges",
			pols: []pol{
				{"range", DirFwd, 0, sel("0.0.0.0/0", "0.0.0.0/0", 17, PortRange{1000, 2000}, AnyPort)},
				{"range2", DirFwd, 0, sel("0.0.0.0/0", "0.0.0.0/0", 17, PortRange{1500, 3000}, port(53))},
			},
			probes: []probe{
				{DirFwd, key("1.2.3.4", "5.6.7.8", 17, 1000, 53), "range"},
				{DirFwd, key("1.2.3.4", "5.6.7.8", 17, 2000, 9), "range"},
				{DirFwd, key("1.2.3.4", "5.6.7.8", 17, 2500, 53), "range2"},
				{DirFwd, key("1.2.3.4", "5.6.7.8", 17, 2500, 54), ""},
				{DirFwd, key("1.2.3.4", "5.6.7.8", 17, 999, 53), ""},
			},
		},
		{
			name: "ICMPv6 type and code (icmp6 135,0)",
			pols: []pol{
				{"ns", DirIn, 0, sel("::/0", "::/0", 58, port(135), port(0))},
				{"na", DirIn, 0, sel("::/0", "::/0", 58, port(136), AnyPort)},
				{"icmp4-echo", DirIn, 0, sel("0.0.0.0/0", "0.0.0.0/0", 1, port(8), AnyPort)},
			},
			probes: []probe{
				{DirIn, key("fe80::1", "ff02::1:ff00:2", 58, 135, 0), "ns"},
				{DirIn, key("fe80::1", "ff02::1:ff00:2", 58, 135, 1), ""},
				{DirIn, key("fe80::1", "fe80::2", 58, 136, 7), "na"},
				{DirIn, key("fe80::1", "fe80::2", 58, 128, 0), ""},
				{DirIn, key("192.0.2.1", "192.0.2.2", 1, 8, 0), "icmp4-echo"},
				{DirIn, key("192.0.2.1", "192.0.2.2", 1, 0, 0), ""},
			},
		},
		{
			name: "v4 and v6 never cross-match",
			pols: []pol{
				{"v4any", DirOut, 0, sel("0.0.0.0/0", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)},
				{"v6any", DirOut, -1, sel("::/0", "::/0", AnyProto, AnyPort, AnyPort)},
				{"mapped", DirOut, 5, sel("::ffff:0.0.0.0/96", "::/0", AnyProto, AnyPort, AnyPort)},
			},
			probes: []probe{
				{DirOut, key("10.0.0.1", "10.0.0.2", 6, 1, 2), "v4any"},
				{DirOut, key("2001:db8::1", "2001:db8::2", 6, 1, 2), "v6any"},
				{DirOut, key("::ffff:10.0.0.1", "2001:db8::2", 6, 1, 2), "mapped"},
				{DirOut, key("::", "::", 0, 0, 0), "v6any"},
				{DirOut, key("0.0.0.0", "0.0.0.0", 0, 0, 0), "v4any"},
			},
		},
		{
			name: "opaque ports match only any ports",
			pols: []pol{
				{"port", DirOut, 10, sel("10.0.0.0/24", "10.0.1.0/24", 17, AnyPort, port(4500))},
				{"any", DirOut, 0, sel("10.0.0.0/24", "10.0.1.0/24", 17, AnyPort, AnyPort)},
			},
			probes: []probe{
				{DirOut, key("10.0.0.1", "10.0.1.1", 17, 4500, 4500), "port"},
				{DirOut, Key{Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 1, 1}, Proto: 17, Opaque: true}, "any"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore()
			names := map[uint32]string{}
			for _, p := range tt.pols {
				got := mustAdd(t, s, Policy{Dir: p.dir, Priority: p.prio, Selector: p.sel, Action: ActionNone})
				names[got.ID] = p.name
			}
			for i, pr := range tt.probes {
				got := ""
				if p := s.Lookup(pr.dir, &pr.k); p != nil {
					got = names[p.ID]
				}
				if got != pr.want {
					t.Errorf("probe %d (%v %v->%v): got %q, want %q", i, pr.dir, pr.k.SrcAddr(), pr.k.DstAddr(), got, pr.want)
				}
			}
		})
	}
}

func TestStoreSemantics(t *testing.T) {
	s := NewStore()
	base := Policy{Dir: DirOut, Selector: sel("10.0.0.0/24", "10.0.1.7/24", 6, AnyPort, port(22)),
		Action: ActionIPsec, Requests: []Request{{Proto: 50, Mode: 2, Level: LevelRequire,
			Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}}}
	p1 := mustAdd(t, s, base)
	if p1.ID != 1<<3|uint32(DirOut) || p1.Seq == 0 || p1.Created.IsZero() {
		t.Fatalf("installed %+v", p1)
	}
	if p1.Selector.Dst != pfx("10.0.1.0/24") {
		t.Fatalf("selector not normalized: %v", p1.Selector.Dst)
	}
	// The same selector, written unmasked, exists.
	if _, err := s.Add(base); !errors.Is(err, ErrExists) {
		t.Fatalf("Add twice: %v", err)
	}
	in := base
	in.Dir = DirIn
	p2 := mustAdd(t, s, in)
	fwd := base
	fwd.Dir = DirFwd
	p3 := mustAdd(t, s, fwd)
	if p2.ID != 2<<3|uint32(DirIn) || p3.ID != 3<<3|uint32(DirFwd) {
		t.Fatalf("IDs %#x %#x", p2.ID, p3.ID)
	}
	// Caller's request slice is copied.
	base.Requests[0].ReqID = 99
	if g, _ := s.Get(p1.ID); g.Requests[0].ReqID != 0 {
		t.Fatal("request slice aliased")
	}
	// Update keeps ID and Seq, changes the rest.
	up := base
	up.Action, up.Requests, up.Priority = ActionDiscard, nil, 4
	u, err := s.Update(up)
	if err != nil || u.ID != p1.ID || u.Seq != p1.Seq || u.Action != ActionDiscard {
		t.Fatalf("Update: %+v %v", u, err)
	}
	k := key("10.0.0.3", "10.0.1.9", 6, 5555, 22)
	if p := s.Lookup(DirOut, &k); p == nil || p.Action != ActionDiscard || p.Priority != 4 {
		t.Fatalf("after Update: %+v", p)
	}
	// Update of an absent selector adds.
	up.Selector.DstPort = port(23)
	u2, err := s.Update(up)
	if err != nil || u2.ID == p1.ID || s.Len() != 4 {
		t.Fatalf("Update-add: %+v %v len %d", u2, err, s.Len())
	}
	// Delete, DeleteID, Get, ErrNotFound.
	if _, err := s.Delete(DirOut, sel("10.0.0.0/24", "10.0.1.0/24", 6, AnyPort, port(24))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete absent: %v", err)
	}
	if d, err := s.Delete(DirOut, base.Selector); err != nil || d.ID != p1.ID {
		t.Fatalf("Delete: %+v %v", d, err)
	}
	if p := s.Lookup(DirOut, &k); p != nil {
		t.Fatalf("deleted policy still found: %+v", p)
	}
	if _, ok := s.Get(p1.ID); ok {
		t.Fatal("Get of deleted")
	}
	if _, err := s.DeleteID(p1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteID absent: %v", err)
	}
	if d, err := s.DeleteID(p2.ID); err != nil || d.Dir != DirIn {
		t.Fatalf("DeleteID: %+v %v", d, err)
	}
	// A fresh Add never reuses a live ID.
	p4 := mustAdd(t, s, base)
	if p4.ID == p3.ID || p4.ID == u2.ID || p4.ID&7 != uint32(DirOut) {
		t.Fatalf("ID %#x", p4.ID)
	}
	if n := s.Flush(); n != 3 || s.Len() != 0 || s.Lookup(DirFwd, &k) != nil {
		t.Fatalf("Flush %d, Len %d", n, s.Len())
	}
	mustAdd(t, s, base)
	if s.Lookup(DirOut, &k) == nil {
		t.Fatal("add after flush")
	}
}

func TestValidate(t *testing.T) {
	ok := Policy{Dir: DirOut, Selector: sel("10.0.0.0/8", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)}
	bad := []func(p *Policy){
		func(p *Policy) { p.Dir = 3 },
		func(p *Policy) { p.Action = 9 },
		func(p *Policy) { p.Action = ActionIPsec },
		func(p *Policy) { p.Selector.Dst = pfx("::/0") },
		func(p *Policy) { p.Selector.Src = netip.Prefix{} },
		func(p *Policy) { p.Selector.Proto = 256 },
		func(p *Policy) { p.Selector.Proto = -2 },
		func(p *Policy) { p.Selector.SrcPort = PortRange{5, 4} },
	}
	for i, mut := range bad {
		p := ok
		mut(&p)
		if _, err := NewStore().Add(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func TestWalkOrder(t *testing.T) {
	s := NewStore()
	prios := []int32{0, 5, 0, -1, 5, 0}
	for i, pr := range prios {
		for _, d := range []Dir{DirFwd, DirOut, DirIn} {
			mustAdd(t, s, Policy{Dir: d, Priority: pr, Selector: sel("10.0.0.0/24", "10.0.1.0/24", 6, AnyPort, port(uint16(i)))})
		}
	}
	var got []*Policy
	s.Walk(func(p *Policy) bool { got = append(got, p); return true })
	if len(got) != 3*len(prios) {
		t.Fatalf("walked %d", len(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Dir > b.Dir || a.Dir == b.Dir && !before(a, b) {
			t.Fatalf("order broken at %d: %v/%d/%d then %v/%d/%d", i, a.Dir, a.Priority, a.Seq, b.Dir, b.Priority, b.Seq)
		}
	}
	n := 0
	s.Walk(func(*Policy) bool { n++; return n < 4 })
	if n != 4 {
		t.Fatalf("early stop: %d", n)
	}
}

func TestStrings(t *testing.T) {
	if DirIn.String() != "in" || DirOut.String() != "out" || DirFwd.String() != "fwd" {
		t.Fatal("Dir strings")
	}
	if ActionBypass.String() != "bypass" || LevelUnique.String() != "unique" {
		t.Fatal("Action/Level strings")
	}
	if s := sel("10.0.0.0/8", "::/0", 58, port(135), PortRange{1, 9}).String(); s != "10.0.0.0/8[135] ::/0[1-9] 58" {
		t.Fatal(s)
	}
}

func TestLookupAllocs(t *testing.T) {
	s := NewStore()
	fill(s, 1000, 1)
	k := key("10.0.3.1", "10.8.3.9", 6, 1234, 443)
	k6 := key("2001:db8::1", "2001:db8:1::9", 17, 53, 53)
	if n := testing.AllocsPerRun(1000, func() {
		s.Lookup(DirOut, &k)
		s.Lookup(DirIn, &k6)
	}); n != 0 {
		t.Fatalf("Lookup allocates %v", n)
	}
}

// TestConcurrentReaders runs lookups while a writer adds, updates and
// deletes (meaningful under -race). A permanent catch-all proves readers
// never see a torn table: every lookup must find something.
func TestConcurrentReaders(t *testing.T) {
	s := NewStore()
	mustAdd(t, s, Policy{Dir: DirOut, Priority: -100, Selector: sel("0.0.0.0/0", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)})
	stable := mustAdd(t, s, Policy{Dir: DirOut, Priority: 50, Selector: sel("10.9.9.9/32", "10.9.9.10/32", 6, AnyPort, port(22))})
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan string, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			k := key("10.0.0.1", "10.0.1.1", 6, 1000, 443)
			ks := key("10.9.9.9", "10.9.9.10", 6, 1000, 22)
			for i := 0; !stop.Load(); i++ {
				k.Src[2], k.Dst[3] = byte(i), byte(i>>8)
				if s.Lookup(DirOut, &k) == nil {
					errc <- "catch-all missed"
					return
				}
				if p := s.Lookup(DirOut, &ks); p == nil || p.ID != stable.ID {
					errc <- "stable policy missed"
					return
				}
			}
		}(r)
	}
	n := 3000
	if testing.Short() {
		n = 1000
	}
	var ids []uint32
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i), 0})
		p := mustAdd(t, s, Policy{Dir: DirOut, Priority: int32(i % 3), Selector: Selector{
			Src: netip.PrefixFrom(a, 24), Dst: pfx("10.0.0.0/16"), Proto: 6, SrcPort: AnyPort, DstPort: port(uint16(i % 7))}})
		ids = append(ids, p.ID)
		if i%3 == 0 {
			p.Priority = 60
			if _, err := s.Update(p); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			if _, err := s.DeleteID(ids[i/2]); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(10 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	select {
	case e := <-errc:
		t.Fatal(e)
	default:
	}
}

// TestEndpoints: a tunnel request runs between its own endpoints, a
// transport request between those of the tunnel before it, else the
// packet's addresses.
func TestEndpoints(t *testing.T) {
	h1, h2 := netip.MustParseAddr("10.1.0.5"), netip.MustParseAddr("10.2.0.9")
	gwA, gwB := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	p := Policy{Requests: []Request{
		{Proto: sad.ProtoAH, Mode: sad.ModeTransport},
		{Proto: sad.ProtoIPComp, Mode: sad.ModeTunnel, Src: gwA, Dst: gwB},
		{Proto: sad.ProtoESP, Mode: sad.ModeTransport}}}
	want := [][2]netip.Addr{{h1, h2}, {gwA, gwB}, {gwA, gwB}}
	for k, w := range want {
		if src, dst := p.Endpoints(k, h1, h2); src != w[0] || dst != w[1] {
			t.Errorf("request %d: %s -> %s, want %v", k, src, dst, w)
		}
	}
}
