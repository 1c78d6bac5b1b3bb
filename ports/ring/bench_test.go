package ring_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/ring"
)

func reportMpps(b *testing.B, pkts int) {
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds()/1e6, "Mpps")
}

// BenchmarkBurst moves a burst of 32 from A to B on one goroutine: the
// cost of one TxBurst plus one RxBurst.
func BenchmarkBurst(b *testing.B) {
	pool := pkt.NewPool("b", 64, 0)
	c := pool.NewCache()
	pa, pb := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b"})
	in := make([]*pkt.Buf, pkt.BurstSize)
	c.GetBulk(in)
	out := make([]*pkt.Buf, pkt.BurstSize)
	b.ReportAllocs()
	pkts := 0
	for b.Loop() {
		pa.TxBurst(0, in)
		pkts += pb.RxBurst(0, out)
	}
	reportMpps(b, pkts)
}

// BenchmarkPipeline runs a producer and a consumer goroutine on one ring,
// as two cores would.
func BenchmarkPipeline(b *testing.B) {
	pool := pkt.NewPool("b", 4096, 0)
	pa, pb := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b"})
	b.ReportAllocs()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // consumer
		c := pool.NewCache()
		out := make([]*pkt.Buf, pkt.BurstSize)
		for {
			n := pb.RxBurst(0, out)
			if n == 0 {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
					continue
				}
			}
			c.PutBulk(out[:n])
		}
	})
	c := pool.NewCache()
	burst := make([]*pkt.Buf, pkt.BurstSize)
	pkts := 0
	for b.Loop() {
		n := c.GetBulk(burst)
		sent := pa.TxBurst(0, burst[:n])
		c.PutBulk(burst[sent:n])
		pkts += sent
		if sent < n {
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()
	reportMpps(b, pkts)
}
