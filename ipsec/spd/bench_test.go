package spd

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var dports = []uint16{22, 53, 80, 443, 500, 993, 1194, 3306, 4500, 5060, 8080, 8443}

// mixPolicy returns the i-th policy of a realistic mix: mostly IPv4 /24
// and /32 pairs with a protocol and a destination port, some IPv6, a few
// wildcards and port ranges.
func mixPolicy(r *rand.Rand, i int) Policy {
	p := Policy{Dir: DirOut, Action: ActionIPsec, Requests: []Request{{Proto: 50, Mode: 2, Level: LevelRequire}}}
	u := uint32(i)
	switch m := r.IntN(100); {
	case m < 85:
		sl, dl := 24, 24
		if r.IntN(2) == 0 {
			sl, dl = 32, 32
		}
		// Unique pairs for either length (u < 1<<24).
		src := netip.AddrFrom4([4]byte{10, byte(u >> 12), byte(u >> 4), byte(u)})
		dst := netip.AddrFrom4([4]byte{172, 16 + byte(u)&15, byte(u >> 20), byte(u)})
		p.Selector = Selector{Src: netip.PrefixFrom(src, sl).Masked(), Dst: netip.PrefixFrom(dst, dl).Masked(),
			Proto: []int{6, 17}[r.IntN(2)], SrcPort: AnyPort, DstPort: port(dports[r.IntN(len(dports))])}
	case m < 97:
		var s, d [16]byte
		s[0], s[1], s[4], s[5], s[6], s[7] = 0x20, 0x01, byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		d[0], d[1], d[2], d[4], d[5], d[6], d[7] = 0x20, 0x01, 0xd, byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		l := []int{64, 128}[r.IntN(2)]
		p.Selector = Selector{Src: netip.PrefixFrom(netip.AddrFrom16(s), l).Masked(), Dst: netip.PrefixFrom(netip.AddrFrom16(d), l).Masked(),
			Proto: 6, SrcPort: AnyPort, DstPort: port(dports[r.IntN(len(dports))])}
	case m < 99:
		// Broad: /16 pairs, any protocol and port (unique for u < 1<<22).
		src := netip.AddrFrom4([4]byte{10, byte(u >> 14), 0, 0})
		dst := netip.AddrFrom4([4]byte{100 + byte(u)&63, byte(u >> 6), 0, 0})
		p.Selector = Selector{Src: netip.PrefixFrom(src, 16), Dst: netip.PrefixFrom(dst, 16), Proto: AnyProto,
			SrcPort: AnyPort, DstPort: AnyPort}
		p.Priority = -10
	default:
		src := netip.AddrFrom4([4]byte{10, byte(u >> 16), byte(u >> 8), byte(u)})
		lo := uint16(1024 + r.IntN(30000))
		p.Selector = Selector{Src: netip.PrefixFrom(src, 32), Dst: pfx("172.16.0.0/12"), Proto: 17,
			SrcPort: AnyPort, DstPort: PortRange{lo, lo + uint16(r.IntN(1000))}}
	}
	return p
}

// fill installs n mixed policies and returns keys that hit them (and a
// few that miss).
func fill(s *Store, n int, seed uint64) []Key {
	r := rand.New(rand.NewPCG(seed, 7))
	// Default rules first, as a configuration would: IKE bypass, catch-alls.
	s.Add(Policy{Dir: DirOut, Priority: 100, Selector: sel("0.0.0.0/0", "0.0.0.0/0", 17, AnyPort, port(500)), Action: ActionBypass})
	s.Add(Policy{Dir: DirOut, Priority: -100, Selector: sel("0.0.0.0/0", "0.0.0.0/0", AnyProto, AnyPort, AnyPort), Action: ActionEntrust})
	var keys []Key
	for i := 0; len(keys) < 4096 || i < n; i++ {
		p := mixPolicy(r, i)
		if i < n {
			s.Add(p)
		}
		sl := p.Selector
		k := KeyFor(sl.Src.Addr(), sl.Dst.Addr(), uint8(max(sl.Proto, 6)), 40000, sl.DstPort.Lo)
		if len(keys) < 4096 {
			keys = append(keys, k)
		}
	}
	return keys
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := NewStore()
			keys := fill(s, n, 1)
			b.ReportAllocs()
			b.ResetTimer()
			hits := 0
			for i := 0; i < b.N; i++ {
				if p := s.Lookup(DirOut, &keys[i&4095]); p != nil && p.Action == ActionIPsec {
					hits++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			b.ReportMetric(float64(len(*s.cls[DirOut][0].list.Load())), "v4shapes")
			_ = hits
		})
	}
}

func BenchmarkInstall(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 7))
	pols := make([]Policy, b.N)
	for i := range pols {
		pols[i] = mixPolicy(r, i)
	}
	s := NewStore()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range pols {
		s.Add(pols[i])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "policies/s")
}

// TestInstallMillion installs 1,000,000 policies one by one, reports the
// rate, and spot-checks lookups against the policies' own selectors.
func TestInstallMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("1M installs: skipped in -short")
	}
	const n = 1_000_000
	r := rand.New(rand.NewPCG(5, 7))
	s := NewStore()
	start := time.Now()
	var pick []Policy
	for i := 0; i < n; i++ {
		p, err := s.Add(mixPolicy(r, i))
		if err == nil && i%10007 == 0 {
			pick = append(pick, p)
		}
	}
	el := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("installed %d policies in %v (%.0f/s), live heap %d MiB", s.Len(), el.Round(time.Millisecond),
		float64(s.Len())/el.Seconds(), ms.HeapAlloc>>20)
	for _, p := range pick {
		sl := p.Selector
		k := KeyFor(sl.Src.Addr(), sl.Dst.Addr(), uint8(max(sl.Proto, 6)), sl.SrcPort.Lo, sl.DstPort.Lo)
		got := s.Lookup(DirOut, &k)
		if got == nil || !got.Selector.Matches(&k) || before(&p, got) {
			t.Fatalf("lookup for %v: %v", sl, got)
		}
	}
	start = time.Now()
	const probes = 1 << 20
	for i := 0; i < probes; i++ {
		p := pick[i%len(pick)].Selector
		k := KeyFor(p.Src.Addr(), p.Dst.Addr(), 6, 1, p.DstPort.Lo)
		s.Lookup(DirOut, &k)
	}
	t.Logf("lookup at 1M policies: %v/op", time.Since(start)/probes)
}

// BenchmarkLookupFamilies probes only IPv6 keys, and keys that no
// specific policy covers (they fall through every shape to the catch-all:
// the worst case), at each size.
func BenchmarkLookupFamilies(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		s := NewStore()
		keys := fill(s, n, 1)
		var v6, miss []Key
		for _, k := range keys {
			if k.V6 {
				v6 = append(v6, k)
			}
		}
		r := rand.New(rand.NewPCG(9, 9))
		for range 4096 {
			miss = append(miss, KeyFor(netip.AddrFrom4([4]byte{11, byte(r.IntN(256)), byte(r.IntN(256)), 1}),
				netip.AddrFrom4([4]byte{172, 16, byte(r.IntN(256)), 2}), 6, 40000, 8080))
		}
		for _, set := range []struct {
			name string
			keys []Key
		}{{"v6", v6}, {"miss", miss}} {
			if len(set.keys) == 0 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", set.name, n), func(b *testing.B) {
				b.ReportAllocs()
				m := len(set.keys)
				for i := 0; b.Loop(); i++ {
					s.Lookup(DirOut, &set.keys[i%m])
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			})
		}
	}
}

// BenchmarkInstallAt measures the steady install rate into an SPD that
// already holds n policies: each iteration adds one policy and deletes
// another (the table stays at n), as a keying daemon's churn does.
func BenchmarkInstallAt(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(11, 7))
			s := NewStore()
			var live []Policy
			for i := range n {
				if p, err := s.Add(mixPolicy(r, i)); err == nil {
					live = append(live, p)
				}
			}
			next := n
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p, err := s.Add(mixPolicy(r, next))
				next++
				if err != nil {
					continue
				}
				j := i % len(live)
				if _, err := s.DeleteID(live[j].ID); err != nil {
					b.Fatal(err)
				}
				live[j] = p
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "installs/s")
		})
	}
}
