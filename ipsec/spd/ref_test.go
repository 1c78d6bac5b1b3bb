package spd

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// refSPD is the naive reference: one ordered slice per direction, first
// match wins.
type refSPD struct {
	seq  uint64
	pols []refPol
}

type refPol struct {
	p   Policy // as the store returned it (ID)
	seq uint64
}

func (r *refSPD) find(dir Dir, sel Selector) int {
	sel = sel.normalize()
	return slices.IndexFunc(r.pols, func(q refPol) bool { return q.p.Dir == dir && q.p.Selector == sel })
}

func (r *refSPD) add(p Policy) error {
	if r.find(p.Dir, p.Selector) >= 0 {
		return ErrExists
	}
	r.seq++
	r.pols = append(r.pols, refPol{p, r.seq})
	return nil
}

func (r *refSPD) update(p Policy) {
	if i := r.find(p.Dir, p.Selector); i >= 0 {
		r.pols[i].p = p
		return
	}
	r.seq++
	r.pols = append(r.pols, refPol{p, r.seq})
}

func (r *refSPD) del(dir Dir, sel Selector) (Policy, error) {
	i := r.find(dir, sel)
	if i < 0 {
		return Policy{}, ErrNotFound
	}
	p := r.pols[i].p
	r.pols = slices.Delete(r.pols, i, i+1)
	return p, nil
}

func (r *refSPD) lookup(dir Dir, k *Key) *Policy {
	var best *refPol
	for i := range r.pols {
		q := &r.pols[i]
		if q.p.Dir != dir || !q.p.Selector.Matches(k) {
			continue
		}
		if best == nil || q.p.Priority > best.p.Priority || q.p.Priority == best.p.Priority && q.seq < best.seq {
			best = q
		}
	}
	if best == nil {
		return nil
	}
	return &best.p
}

// gen makes random policies and keys from a small universe so that
// prefixes nest and selectors collide.
type gen struct{ r *rand.Rand }

var (
	v4Bases = []netip.Addr{netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.1.0"),
		netip.MustParseAddr("10.1.0.0"), netip.MustParseAddr("192.168.7.0")}
	v6Bases = []netip.Addr{netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("2001:db8:0:1::"),
		netip.MustParseAddr("2001:db8:1::"), netip.MustParseAddr("fe80::")}
	v4Lens   = []int{0, 8, 16, 23, 24, 30, 32, 32}
	v6Lens   = []int{0, 32, 48, 64, 96, 127, 128, 128}
	protos   = []int{AnyProto, AnyProto, 6, 17, 1, 58, 50, 135}
	portPool = []uint16{0, 22, 53, 80, 135, 443, 500, 4500}
	prios    = []int32{-3, 0, 0, 0, 0, 7, 100}
)

// host randomizes the bits of a below bits (low host bits only, mostly).
func (g gen) host(a netip.Addr, bits int) netip.Addr {
	b := a.AsSlice()
	total := len(b) * 8
	for i := bits; i < total; i++ {
		if i < total-10 && g.r.IntN(8) != 0 {
			continue // keep most high bits so hosts stay near the bases
		}
		if g.r.IntN(2) == 0 {
			b[i/8] ^= 0x80 >> (i % 8)
		}
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

func (g gen) prefix(v6 bool) netip.Prefix {
	bases, lens := v4Bases, v4Lens
	if v6 {
		bases, lens = v6Bases, v6Lens
	}
	a := bases[g.r.IntN(len(bases))]
	l := lens[g.r.IntN(len(lens))]
	return netip.PrefixFrom(g.host(a, l), l).Masked()
}

func (g gen) ports(icmp bool) PortRange {
	switch g.r.IntN(6) {
	case 0, 1, 2:
		return AnyPort
	case 3, 4:
		if icmp {
			v := uint16(g.r.IntN(4)) + 133
			return PortRange{v, v}
		}
		v := portPool[g.r.IntN(len(portPool))]
		return PortRange{v, v}
	}
	lo := portPool[g.r.IntN(len(portPool))]
	return PortRange{lo, lo + uint16(g.r.IntN(600))}
}

func (g gen) policy() Policy {
	v6 := g.r.IntN(3) == 0
	sel := Selector{Src: g.prefix(v6), Dst: g.prefix(v6), Proto: protos[g.r.IntN(len(protos))]}
	icmp := sel.Proto == 1 || sel.Proto == 58
	sel.SrcPort, sel.DstPort = g.ports(icmp), g.ports(icmp)
	p := Policy{Dir: Dir(g.r.IntN(3)), Priority: prios[g.r.IntN(len(prios))], Selector: sel,
		Action: Action(g.r.IntN(5))}
	if p.Action == ActionIPsec {
		p.Requests = []Request{{Proto: 50, Mode: 1, Level: LevelRequire}}
	}
	return p
}

func (g gen) key(pols []refPol) Key {
	var src, dst netip.Addr
	proto := uint8(protos[1+g.r.IntN(len(protos)-1)])
	sport, dport := portPool[g.r.IntN(len(portPool))], portPool[g.r.IntN(len(portPool))]
	if len(pols) > 0 && g.r.IntN(4) != 0 {
		// Derive from a policy's own selector.
		s := pols[g.r.IntN(len(pols))].p.Selector
		src, dst = g.host(s.Src.Addr(), s.Src.Bits()), g.host(s.Dst.Addr(), s.Dst.Bits())
		if s.Proto != AnyProto && g.r.IntN(4) != 0 {
			proto = uint8(s.Proto)
		}
		if g.r.IntN(2) == 0 {
			sport = s.SrcPort.Lo + uint16(g.r.IntN(int(s.SrcPort.Hi-s.SrcPort.Lo)+1))
			dport = s.DstPort.Lo + uint16(g.r.IntN(int(s.DstPort.Hi-s.DstPort.Lo)+1))
		}
	} else {
		p := g.prefix(g.r.IntN(3) == 0)
		src = g.host(p.Addr(), p.Bits())
		bases := v4Bases
		if !src.Is4() {
			bases = v6Bases
		}
		dst = g.host(bases[g.r.IntN(len(bases))], 8)
	}
	k := KeyFor(src, dst, proto, sport, dport)
	if g.r.IntN(10) == 0 {
		k.Opaque, k.SrcPort, k.DstPort = true, 0, 0
	}
	return k
}

// check compares the store with the reference over keys.
func check(t testing.TB, s *Store, ref *refSPD, g gen, keys int) {
	t.Helper()
	for i := 0; i < keys; i++ {
		k := g.key(ref.pols)
		for d := DirIn; d < numDirs; d++ {
			got, want := s.Lookup(d, &k), ref.lookup(d, &k)
			if (got == nil) != (want == nil) || got != nil && got.ID != want.ID {
				t.Fatalf("dir %v key %+v (src %v dst %v): got %v, want %v", d, k, k.SrcAddr(), k.DstAddr(), desc(got), desc(want))
			}
		}
	}
	if s.Len() != len(ref.pols) {
		t.Fatalf("Len %d, reference %d", s.Len(), len(ref.pols))
	}
}

func desc(p *Policy) string {
	if p == nil {
		return "nil"
	}
	return p.Dir.String() + " " + p.Selector.String() + " prio " + string(rune('0'+p.Priority%10))
}

// apply runs one random operation on both.
func apply(t testing.TB, s *Store, ref *refSPD, g gen, p Policy) {
	t.Helper()
	switch op := g.r.IntN(10); {
	case op < 6:
		got, err := s.Add(p)
		if err == nil {
			p = got
		}
		if rerr := ref.add(p); !errors.Is(err, rerr) {
			t.Fatalf("Add %v: err %v, reference %v", p.Selector, err, rerr)
		}
	case op < 8:
		got, err := s.Update(p)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if i := ref.find(p.Dir, p.Selector); i >= 0 && ref.pols[i].p.ID != got.ID {
			t.Fatalf("Update changed ID %#x -> %#x", ref.pols[i].p.ID, got.ID)
		}
		ref.update(got)
	default:
		if len(ref.pols) > 0 && g.r.IntN(2) == 0 {
			p = ref.pols[g.r.IntN(len(ref.pols))].p
		}
		var got Policy
		var err error
		if g.r.IntN(2) == 0 {
			got, err = s.Delete(p.Dir, p.Selector)
		} else if i := ref.find(p.Dir, p.Selector); i >= 0 {
			got, err = s.DeleteID(ref.pols[i].p.ID)
		} else {
			_, err = s.DeleteID(0xfffffff8)
		}
		want, rerr := ref.del(p.Dir, p.Selector)
		if !errors.Is(err, rerr) || err == nil && got.ID != want.ID {
			t.Fatalf("Delete %v: %v %v, reference %v %v", p.Selector, got.ID, err, want.ID, rerr)
		}
	}
}

func TestRandomAgainstReference(t *testing.T) {
	rounds, n, keys := 6, 2500, 3000
	if testing.Short() {
		rounds, n, keys = 3, 1000, 1000
	}
	for round := 0; round < rounds; round++ {
		g := gen{rand.New(rand.NewPCG(uint64(round), 42))}
		s, ref := NewStore(), &refSPD{}
		for i := 0; i < n; i++ {
			p := g.policy()
			got, err := s.Add(p)
			if err == nil {
				p = got
			}
			if rerr := ref.add(p); !errors.Is(err, rerr) {
				t.Fatalf("Add: %v vs %v", err, rerr)
			}
		}
		check(t, s, ref, g, keys)
		for i := 0; i < n; i++ {
			apply(t, s, ref, g, g.policy())
			if i%250 == 0 {
				check(t, s, ref, g, 50)
			}
		}
		check(t, s, ref, g, keys)
		// Drain to empty through deletes: shrinking tables and bounds.
		for len(ref.pols) > 0 {
			p := ref.pols[g.r.IntN(len(ref.pols))].p
			if _, err := s.Delete(p.Dir, p.Selector); err != nil {
				t.Fatal(err)
			}
			ref.del(p.Dir, p.Selector)
			if len(ref.pols)%200 == 0 {
				check(t, s, ref, g, 100)
			}
		}
		check(t, s, ref, g, 100)
	}
}

// FuzzLookup drives random operations and lookups from the fuzz input
// and compares the Store with the reference.
func FuzzLookup(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("\x00\x00\x10\x20\x30\x40\x50\x01\x02\x03\xff\xfe\x00\x11\x22"))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		var seed [32]byte
		copy(seed[:], data)
		g := gen{rand.New(rand.NewChaCha8(seed))}
		s, ref := NewStore(), &refSPD{}
		for _, b := range data[8:] {
			switch b % 4 {
			case 0, 1:
				apply(t, s, ref, g, g.policy())
			case 2:
				check(t, s, ref, g, 4)
			case 3:
				// An operation on a policy we already know.
				if len(ref.pols) > 0 {
					p := ref.pols[int(b)%len(ref.pols)].p
					p.Priority = int32(b) % 3
					apply(t, s, ref, g, p)
				}
			}
		}
		check(t, s, ref, g, 32)
	})
}
