package lpm

import (
	"encoding/binary"
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// ref is the naive reference: a linear scan for the longest match.
type ref map[netip.Prefix]uint32

func mp(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ma(s string) netip.Addr   { return netip.MustParseAddr(s) }

// randPrefix returns a random prefix of the family, sometimes nested under
// an earlier one so that overlaps are common.
func randPrefix(rng *rand.Rand, v6 bool, earlier []netip.Prefix) netip.Prefix {
	var a netip.Addr
	if v6 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], rng.Uint64())
		binary.BigEndian.PutUint64(b[8:], rng.Uint64())
		a = netip.AddrFrom16(b)
	} else {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], rng.Uint32())
		a = netip.AddrFrom4(b)
	}
	n := a.BitLen()
	if len(earlier) > 0 && rng.IntN(2) == 0 {
		// Nest under an earlier prefix of the same family.
		q := earlier[rng.IntN(len(earlier))]
		if q.Addr().Is4() == !v6 && q.Bits() < n {
			bits := q.Bits() + 1 + rng.IntN(n-q.Bits())
			return splice(q, a, bits)
		}
	}
	return netip.PrefixFrom(a, rng.IntN(n+1)).Masked()
}

// splice returns the prefix of length bits whose first q.Bits() bits come
// from q and the rest from a.
func splice(q netip.Prefix, a netip.Addr, bits int) netip.Prefix {
	x, y := q.Addr().AsSlice(), a.AsSlice()
	for i := range x {
		for j := 7; j >= 0; j-- {
			if i*8+(7-j) >= q.Bits() {
				x[i] = x[i]&^(1<<j) | y[i]&(1<<j)
			}
		}
	}
	b, _ := netip.AddrFromSlice(x)
	return netip.PrefixFrom(b, bits).Masked()
}

// lastAddr returns the last address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	x := p.Addr().AsSlice()
	for i := p.Bits(); i < len(x)*8; i++ {
		x[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(x)
	return a
}

// probes returns addresses at and around the edges of the prefixes.
func probes(ps []netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, p := range ps {
		first, last := p.Addr(), lastAddr(p)
		out = append(out, first, last, first.Prev(), last.Next())
	}
	return slices.DeleteFunc(out, func(a netip.Addr) bool { return !a.IsValid() })
}

func randAddr(rng *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], rng.Uint64())
		binary.BigEndian.PutUint64(b[8:], rng.Uint64())
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], rng.Uint32())
	return netip.AddrFrom4(b)
}

// longestFirst returns r's prefixes, longest first: the first one that
// contains an address is its longest match.
func (r ref) longestFirst() []netip.Prefix {
	ps := slices.Collect(maps.Keys(r))
	slices.SortFunc(ps, func(a, b netip.Prefix) int { return b.Bits() - a.Bits() })
	return ps
}

func check(t testing.TB, tab *Table, r ref, addrs []netip.Addr) {
	t.Helper()
	ps := r.longestFirst()
	bad := 0
	for _, a := range addrs {
		wv, wok := uint32(0), false
		for _, p := range ps {
			if p.Contains(a) {
				wv, wok = r[p], true
				break
			}
		}
		gv, gok := tab.Lookup(a)
		if gv != wv || gok != wok {
			t.Errorf("Lookup(%v) = %d, %v; want %d, %v", a, gv, gok, wv, wok)
			if bad++; bad > 10 {
				t.FailNow()
			}
		}
	}
}

func checkRoutes(t testing.TB, tab *Table, r ref) {
	t.Helper()
	if tab.Len() != len(r) {
		t.Fatalf("Len = %d, want %d", tab.Len(), len(r))
	}
	var got []netip.Prefix
	tab.Routes(func(p netip.Prefix, v uint32) bool {
		if w, ok := r[p]; !ok || w != v {
			t.Fatalf("Routes yielded %v=%d, want %d (present %v)", p, v, w, ok)
		}
		got = append(got, p)
		return true
	})
	if len(got) != len(r) {
		t.Fatalf("Routes yielded %d, want %d", len(got), len(r))
	}
	sorted := slices.IsSortedFunc(got, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c // IPv4 sorts before IPv6
		}
		return a.Bits() - b.Bits()
	})
	if !sorted {
		t.Fatalf("Routes not in prefix order: %v", got)
	}
}

func TestRandomVsReference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v6    bool
		n     int
		seeds int
	}{
		{"v4-small", false, 20, 20},
		{"v4", false, 3000, 3},
		{"v6-small", true, 20, 20},
		{"v6", true, 3000, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range tc.seeds {
				rng := rand.New(rand.NewPCG(uint64(seed), 42))
				b := NewBuilder()
				r := ref{}
				var ps []netip.Prefix
				for range tc.n {
					p := randPrefix(rng, tc.v6, ps)
					v := rng.Uint32N(1000)
					b.Insert(p, v)
					r[p] = v
					ps = append(ps, p)
				}
				// Some routes of the other family, which must not interfere.
				for range 20 {
					p := randPrefix(rng, !tc.v6, nil)
					b.Insert(p, 7)
					r[p] = 7
				}
				tab := b.Build()
				addrs := probes(ps)
				for range 5000 {
					addrs = append(addrs, randAddr(rng, tc.v6))
				}
				check(t, tab, r, addrs)
				checkRoutes(t, tab, r)

				// Delete half and rebuild.
				for _, p := range ps[:len(ps)/2] {
					b.Delete(p)
					delete(r, p)
				}
				check(t, b.Build(), r, addrs)
			}
		})
	}
}

func TestEdgeCases(t *testing.T) {
	type route struct {
		p string
		v uint32
	}
	type probe struct {
		a  string
		v  uint32
		ok bool
	}
	for _, tc := range []struct {
		name   string
		routes []route
		del    []string
		probes []probe
	}{
		{"empty", nil, nil, []probe{{"1.2.3.4", 0, false}, {"::1", 0, false}, {"0.0.0.0", 0, false}}},
		{"default4", []route{{"0.0.0.0/0", 5}}, nil, []probe{
			{"0.0.0.0", 5, true}, {"255.255.255.255", 5, true}, {"10.1.2.3", 5, true}, {"::", 0, false},
		}},
		{"default6", []route{{"::/0", 6}}, nil, []probe{
			{"::", 6, true}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6, true}, {"1.2.3.4", 0, false},
			{"::ffff:1.2.3.4", 6, true},
		}},
		{"host4", []route{{"10.0.0.1/32", 1}, {"10.0.0.0/8", 2}}, nil, []probe{
			{"10.0.0.1", 1, true}, {"10.0.0.0", 2, true}, {"10.0.0.2", 2, true}, {"11.0.0.0", 0, false},
		}},
		{"host4-edges", []route{{"0.0.0.0/32", 1}, {"255.255.255.255/32", 2}}, nil, []probe{
			{"0.0.0.0", 1, true}, {"0.0.0.1", 0, false}, {"255.255.255.255", 2, true}, {"255.255.255.254", 0, false},
		}},
		{"host6", []route{{"2001:db8::1/128", 1}, {"2001:db8::/32", 2}, {"::/0", 3}}, nil, []probe{
			{"2001:db8::1", 1, true}, {"2001:db8::", 2, true}, {"2001:db8::2", 2, true}, {"2001:db9::", 3, true},
		}},
		{"host6-edges", []route{{"::/128", 1}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 2}}, nil, []probe{
			{"::", 1, true}, {"::1", 0, false}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2, true},
			{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 0, false},
		}},
		{"nested4", []route{
			{"0.0.0.0/0", 0}, {"10.0.0.0/8", 8}, {"10.1.0.0/16", 16}, {"10.1.2.0/24", 24}, {"10.1.2.128/25", 25},
			{"10.1.2.3/32", 32}, {"10.0.0.0/17", 17}, {"10.1.2.0/23", 23},
		}, nil, []probe{
			{"9.0.0.0", 0, true}, {"10.2.0.0", 8, true}, {"10.1.3.0", 23, true}, {"10.1.2.2", 24, true},
			{"10.1.2.3", 32, true}, {"10.1.2.200", 25, true}, {"10.1.4.0", 16, true}, {"10.0.127.255", 17, true},
			{"10.0.128.0", 8, true},
		}},
		{"nested6", []route{
			{"2000::/3", 3}, {"2001:db8::/32", 32}, {"2001:db8:1::/48", 48}, {"2001:db8:1:2::/64", 64},
			{"2001:db8:1:2::/127", 127}, {"2001:db8:1:2:0:0:0:1/128", 128}, {"2001:db8:1:2:8000::/65", 65},
		}, nil, []probe{
			{"3fff::", 3, true}, {"4000::", 0, false}, {"2001:db8:2::", 32, true}, {"2001:db8:1:3::", 48, true},
			{"2001:db8:1:2::1", 128, true}, {"2001:db8:1:2::", 127, true}, {"2001:db8:1:2::2", 64, true},
			{"2001:db8:1:2:8000::", 65, true},
		}},
		{"replace", []route{{"10.0.0.0/8", 1}, {"10.0.0.0/8", 2}, {"10.9.9.9/8", 3}}, nil, []probe{
			{"10.1.1.1", 3, true},
		}},
		{"delete", []route{{"10.0.0.0/8", 1}, {"10.1.0.0/16", 2}, {"::/0", 9}}, []string{"10.1.0.0/16", "::/0"}, []probe{
			{"10.1.1.1", 1, true}, {"::1", 0, false},
		}},
		{"mapped-is-v6", []route{{"1.2.3.0/24", 4}, {"::ffff:0:0/96", 6}}, nil, []probe{
			{"1.2.3.4", 4, true}, {"::ffff:1.2.3.4", 6, true}, {"::ffff:1.2.4.4", 6, true},
		}},
		{"max-value", []route{{"1.0.0.0/8", math.MaxUint32}, {"1.1.1.0/24", math.MaxUint32 - 1}, {"1.1.1.1/32", 0}}, nil, []probe{
			{"1.2.0.0", math.MaxUint32, true}, {"1.1.1.2", math.MaxUint32 - 1, true}, {"1.1.1.1", 0, true}, {"2.0.0.0", 0, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder()
			for _, r := range tc.routes {
				b.Insert(mp(r.p), r.v)
			}
			for _, d := range tc.del {
				if !b.Delete(mp(d)) {
					t.Fatalf("Delete(%s) = false", d)
				}
				if b.Delete(mp(d)) {
					t.Fatalf("second Delete(%s) = true", d)
				}
			}
			tab := b.Build()
			for _, p := range tc.probes {
				v, ok := tab.Lookup(ma(p.a))
				if v != p.v || ok != p.ok {
					t.Errorf("Lookup(%s) = %d, %v; want %d, %v", p.a, v, ok, p.v, p.ok)
				}
			}
		})
	}
}

func TestPickNone(t *testing.T) {
	rs := []route{{val: math.MaxUint32}, {val: math.MaxUint32 - 1}, {val: math.MaxUint32 - 3}}
	if got := pickNone(rs); got != math.MaxUint32-2 {
		t.Fatalf("pickNone = %d", got)
	}
	if got := pickNone(rs[1:]); got != math.MaxUint32 {
		t.Fatalf("pickNone = %d", got)
	}
}

func TestBuilder(t *testing.T) {
	b := NewBuilder()
	b.Insert(mp("10.1.2.3/8"), 1) // masked
	b.Insert(mp("10.0.0.0/8"), 2) // replaces
	b.Insert(netip.Prefix{}, 3)   // ignored
	if b.Len() != 1 {
		t.Fatalf("Len = %d", b.Len())
	}
	tab := b.Build()
	b.Insert(mp("10.1.0.0/16"), 4) // does not affect tab
	if v, _ := tab.Lookup(ma("10.1.0.0")); v != 2 || tab.Len() != 1 {
		t.Fatalf("Lookup = %d, Len = %d", v, tab.Len())
	}
	if !b.Delete(mp("10.9.9.9/8")) || b.Len() != 1 {
		t.Fatalf("Delete of unmasked prefix failed")
	}
	n := 0
	b.Build().Routes(func(netip.Prefix, uint32) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Routes did not stop")
	}
	if v, ok := tab.Lookup(netip.Addr{}); ok || v != 0 {
		t.Fatalf("Lookup(invalid) = %d, %v", v, ok)
	}
}

func TestZeroAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := NewBuilder()
	var ps []netip.Prefix
	for range 2000 {
		p := randPrefix(rng, rng.IntN(2) == 0, ps)
		b.Insert(p, 1)
		ps = append(ps, p)
	}
	tab := b.Build()
	a4 := [4]byte{10, 1, 2, 3}
	a6 := ma("2001:db8::1").As16()
	addr := ma("2001:db8::2")
	var sink uint32
	allocs := testing.AllocsPerRun(1000, func() {
		v, _ := tab.Lookup4(a4)
		w, _ := tab.Lookup6(&a6)
		x, _ := tab.Lookup(addr)
		sink += v + w + x
	})
	if allocs != 0 {
		t.Fatalf("lookups allocate: %v per run", allocs)
	}
	_ = sink
}

func FuzzLookup(f *testing.F) {
	f.Add([]byte{0x00, 0, 0, 0, 0, 0}, []byte{1, 2, 3, 4})
	f.Add([]byte{0x20, 10, 0, 0, 1, 1, 0x08, 10, 0, 0, 0, 2}, []byte{10, 0, 0, 1})
	f.Add([]byte{0xff, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5}, []byte{0x20, 0x01, 0x0d, 0xb8})
	f.Fuzz(func(t *testing.T, ops, extra []byte) {
		// Each op: a header byte (bit 7: IPv6; bit 6: delete; low bits:
		// length, scaled), then the address bytes, then a value byte.
		b := NewBuilder()
		r := ref{}
		var ps []netip.Prefix
		for len(ops) > 0 {
			h := ops[0]
			ops = ops[1:]
			n := 4
			if h&0x80 != 0 {
				n = 16
			}
			if len(ops) < n+1 {
				break
			}
			a, _ := netip.AddrFromSlice(ops[:n])
			bits := int(h&0x3f) * (n * 8) / 63
			if h&0x3f == 0x3f {
				bits = n * 8
			}
			p := netip.PrefixFrom(a, bits).Masked()
			v := uint32(ops[n])
			ops = ops[n+1:]
			if h&0x40 != 0 {
				_, had := r[p]
				if b.Delete(p) != had {
					t.Fatalf("Delete(%v) disagrees", p)
				}
				delete(r, p)
				continue
			}
			b.Insert(p, v)
			r[p] = v
			ps = append(ps, p)
		}
		tab := b.Build()
		addrs := probes(ps)
		for len(extra) >= 4 {
			a, _ := netip.AddrFromSlice(extra[:4])
			addrs = append(addrs, a)
			if len(extra) >= 16 {
				a, _ := netip.AddrFromSlice(extra[:16])
				addrs = append(addrs, a)
			}
			extra = extra[4:]
		}
		check(t, tab, r, addrs)
		checkRoutes(t, tab, r)
	})
}
