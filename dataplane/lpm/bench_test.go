package lpm

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// bgpLen draws a prefix length with a rough full-table shape: mostly /24
// (v4) or /48 (v6), with a spread of shorter and some longer ones.
func bgpLen(rng *rand.Rand, v6 bool) int {
	x := rng.IntN(100)
	if !v6 {
		switch {
		case x < 60:
			return 24
		case x < 70:
			return 22 + rng.IntN(2)
		case x < 80:
			return 16 + rng.IntN(6)
		case x < 90:
			return 8 + rng.IntN(8)
		default:
			return 25 + rng.IntN(8)
		}
	}
	switch {
	case x < 45:
		return 48
	case x < 60:
		return 32
	case x < 75:
		return 40 + rng.IntN(8)
	case x < 90:
		return 29 + rng.IntN(11)
	default:
		return 49 + rng.IntN(80)
	}
}

// genRoutes returns n distinct random prefixes (plus a default route) and
// addresses inside them with random host bits, for lookups.
func genRoutes(n int, v6 bool) (*Builder, []netip.Addr) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	b := NewBuilder()
	var ps []netip.Prefix
	if v6 {
		b.Insert(mp("::/0"), 0)
	} else {
		b.Insert(mp("0.0.0.0/0"), 0)
	}
	for b.Len() < n+1 {
		a := randAddr(rng, v6)
		if v6 { // keep to 2000::/4 like the real table
			s := a.As16()
			s[0] = 0x20 | s[0]&0x0f
			a = netip.AddrFrom16(s)
		}
		p := netip.PrefixFrom(a, bgpLen(rng, v6)).Masked()
		b.Insert(p, rng.Uint32N(1024))
		ps = append(ps, p)
	}
	addrs := make([]netip.Addr, 1<<16)
	for i := range addrs {
		p := ps[rng.IntN(len(ps))]
		addrs[i] = splice(p, randAddr(rng, v6), p.Addr().BitLen()).Addr()
	}
	return b, addrs
}

func BenchmarkLookup4(b *testing.B) {
	for _, n := range []int{10, 10_000, 100_000} {
		bld, addrs := genRoutes(n, false)
		tab := bld.Build()
		a4 := make([][4]byte, len(addrs))
		for i, a := range addrs {
			a4[i] = a.As4()
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint32
			i := 0
			for b.Loop() {
				v, _ := tab.Lookup4(a4[i&(len(a4)-1)])
				sink += v
				i++
			}
			_ = sink
		})
	}
}

func BenchmarkLookup6(b *testing.B) {
	for _, n := range []int{10, 10_000, 100_000} {
		bld, addrs := genRoutes(n, true)
		tab := bld.Build()
		a16 := make([][16]byte, len(addrs))
		for i, a := range addrs {
			a16[i] = a.As16()
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint32
			i := 0
			for b.Loop() {
				v, _ := tab.Lookup6(&a16[i&(len(a16)-1)])
				sink += v
				i++
			}
			_ = sink
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, tc := range []struct {
		n  int
		v6 bool
	}{{100_000, false}, {10_000, true}, {100_000, true}} {
		bld, _ := genRoutes(tc.n, tc.v6)
		fam := "v4"
		if tc.v6 {
			fam = "v6"
		}
		b.Run(fmt.Sprintf("%s-%d", fam, tc.n), func(b *testing.B) {
			b.ReportAllocs()
			var t *Table
			for b.Loop() {
				t = bld.Build()
			}
			s := t.Stats()
			b.ReportMetric(float64(s.LookupBytes)/(1<<20), "lookupMiB")
			b.ReportMetric(float64(s.TotalBytes)/(1<<20), "totalMiB")
		})
	}
}

// BenchmarkFullTable measures lookups in full-table-sized v4 and v6 tables
// and reports the one-off build time and memory; run it with
// -bench=FullTable -benchtime=200ms.
func BenchmarkFullTable(b *testing.B) {
	for _, tc := range []struct {
		n  int
		v6 bool
	}{{1_000_000, false}, {200_000, true}} {
		bld, addrs := genRoutes(tc.n, tc.v6)
		start := time.Now()
		t := bld.Build()
		build := time.Since(start)
		s := t.Stats()
		a4 := make([][4]byte, len(addrs))
		a16 := make([][16]byte, len(addrs))
		for i, a := range addrs {
			if tc.v6 {
				a16[i] = a.As16()
			} else {
				a4[i] = a.As4()
			}
		}
		b.Run(fmt.Sprintf("v6=%v-%d", tc.v6, tc.n), func(b *testing.B) {
			b.ReportAllocs()
			var sum uint32
			i := 0
			for b.Loop() {
				var v uint32
				if tc.v6 {
					v, _ = t.Lookup6(&a16[i&(len(a16)-1)])
				} else {
					v, _ = t.Lookup4(a4[i&(len(a4)-1)])
				}
				sum += v
				i++
			}
			_ = sum
			b.ReportMetric(build.Seconds()*1e3, "build-ms")
			b.ReportMetric(float64(s.LookupBytes)/(1<<20), "lookupMiB")
			b.ReportMetric(float64(s.TotalBytes)/(1<<20), "totalMiB")
		})
	}
}
