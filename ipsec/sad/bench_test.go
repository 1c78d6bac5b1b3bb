package sad

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Benchmarks build up to 1,000,000 SAs (sharing one session) once per
// size and keep them for the process; run them with -bench only.

var benchSizes = []int{1, 1000, 100000, 1000000}

// benchCfg is SA i: a unique SPI and source, one of 256 local
// destinations, a time lifetime so Tick has work.
func benchCfg(i int) Config {
	return Config{Proto: ProtoESP, SPI: uint32(0x100 + i), Src: v4(172, i), Dst: v4(10, i&255),
		Mode: ModeTunnel, Hard: Lifetime{AddTime: time.Hour}}
}

func benchSAs(tb testing.TB, n int) []*SA {
	sas := make([]*SA, n)
	for i := range sas {
		sas[i] = mkc(tb, benchCfg(i))
	}
	return sas
}

var (
	benchMu     sync.Mutex
	benchStores = map[int]*Store{}
)

func benchStore(b *testing.B, n int) *Store {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchStores[n]; s != nil {
		return s
	}
	s := NewStore()
	sas := benchSAs(b, n)
	if err := applyBatches(s, sas, 1000); err != nil {
		b.Fatal(err)
	}
	benchStores[n] = s
	return s
}

func applyBatches(s *Store, sas []*SA, batch int) error {
	for lo := 0; lo < len(sas); lo += batch {
		err := s.Apply(func(tx *Txn) error {
			for _, sa := range sas[lo:min(lo+batch, len(sas))] {
				if err := tx.Add(sa); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type benchKey struct {
	spi      uint32
	src, dst netip.Addr
}

// benchKeys samples up to 64Ki random installed keys, so lookups hit
// random places of the table (cache misses included).
func benchKeys(n int) []benchKey {
	k := make([]benchKey, min(n, 1<<16))
	r := rand.New(rand.NewPCG(1, 2))
	for j := range k {
		i := r.IntN(n)
		c := benchCfg(i)
		k[j] = benchKey{c.SPI, c.Src, c.Dst}
	}
	return k
}

func BenchmarkInbound(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchStore(b, n)
			keys := benchKeys(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := &keys[i%len(keys)]
				if s.Inbound(ProtoESP, k.spi, k.dst, k.src) == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkInboundMiss(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchStore(b, n)
			keys := benchKeys(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := &keys[i%len(keys)]
				if s.Inbound(ProtoESP, k.spi|0x40000000, k.dst, k.src) != nil {
					b.Fatal("hit")
				}
			}
		})
	}
}

func BenchmarkOutbound(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchStore(b, n)
			keys := benchKeys(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := &keys[i%len(keys)]
				if s.Outbound(ProtoESP, ModeTunnel, k.src, k.dst, 0, false) == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

// BenchmarkMapBaseline is the alternative the index is measured against:
// a Go map keyed by (proto, spi, dst), read-only (no RCU).
func BenchmarkMapBaseline(b *testing.B) {
	type key struct {
		dst   netip.Addr
		spi   uint32
		proto Proto
	}
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := make(map[key]*SA, n)
			benchStore(b, n).Walk(func(sa *SA) bool {
				m[key{sa.Dst, sa.SPI, sa.Proto}] = sa
				return true
			})
			keys := benchKeys(n)
			b.ResetTimer()
			for i := range b.N {
				k := &keys[i%len(keys)]
				if sa := m[key{k.dst, k.spi, ProtoESP}]; sa == nil || sa.Src != k.src {
					b.Fatal("miss")
				}
			}
		})
	}
}

// BenchmarkAdd adds SAs one by one (each takes the lock) into a store
// growing from empty; resizes included.
func BenchmarkAdd(b *testing.B) {
	sas := benchSAs(b, b.N)
	s := NewStore()
	b.ReportAllocs()
	b.ResetTimer()
	for _, sa := range sas {
		if err := s.Add(sa); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}

// BenchmarkApply1000 adds SAs in batches of 1000 per lock acquisition.
func BenchmarkApply1000(b *testing.B) {
	sas := benchSAs(b, b.N)
	s := NewStore()
	b.ReportAllocs()
	b.ResetTimer()
	if err := applyBatches(s, sas, 1000); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}

// BenchmarkChurn100k deletes and re-adds SAs in a store of 100,000: the
// steady state of rekeying.
func BenchmarkChurn100k(b *testing.B) {
	const n = 100000
	s := NewStore()
	sas := benchSAs(b, n)
	if err := applyBatches(s, sas, 1000); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		sa := sas[i%n]
		old, err := s.Delete(sa.Proto, sa.Src, sa.Dst, sa.SPI)
		if err != nil {
			b.Fatal(err)
		}
		old.SetState(StateMature)
		if err := s.Add(old); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}

// BenchmarkTick1M is a Tick over 1,000,000 SAs with time limits, none
// due: the cost of the timer scan.
func BenchmarkTick1M(b *testing.B) {
	const n = 1000000
	s := NewStore()
	if err := applyBatches(s, benchSAs(b, n), 1000); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	for i := range b.N {
		s.Tick(t0.Add(time.Duration(i) * 100 * time.Millisecond))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/SA")
}

// BenchmarkTickDue1M is Ticks that find every one of 1,000,000 SAs due
// (each raises a soft expiry, then is re-armed for its hard limit).
func BenchmarkTickDue1M(b *testing.B) {
	const n = 1000000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		s := NewStore()
		sas := make([]*SA, n)
		for i := range sas {
			c := benchCfg(i)
			c.Soft.AddTime = time.Minute
			sas[i] = mkc(b, c)
		}
		if err := applyBatches(s, sas, 1000); err != nil {
			b.Fatal(err)
		}
		go func() {
			for range n {
				<-s.Events()
			}
		}()
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		s.Tick(t0.Add(2 * time.Minute))
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/n, "ns/SA")
}

// BenchmarkMemoryPerSA reports the heap used per SA (the SA itself,
// without its session, which benchmarks share) and per index entry.
func BenchmarkMemoryPerSA(b *testing.B) {
	const n = 1000000
	var m0, m1, m2 runtime.MemStats
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&m0)
		sas := benchSAs(b, n)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		s := NewStore()
		if err := applyBatches(s, sas, 1000); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m2)
		runtime.KeepAlive(sas)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "SA-B/SA")
	b.ReportMetric(float64(m2.HeapAlloc-m1.HeapAlloc)/n, "index-B/SA")
}
