package engine

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// genPort endlessly receives copies of one frame and discards what it
// sends, counting it: a traffic generator and sink in one.
type genPort struct {
	fakePort
	frame []byte
	cache *pkt.Cache
	sent  atomic.Uint64
	limit int64 // frames left to receive; <0 unlimited
}

func newGenPort(name string, mac byte, pool *pkt.Pool, frame []byte) *genPort {
	g := &genPort{fakePort: *newFakePort(name, mac, pkt.LinkEthernet, pool), frame: frame, limit: -1}
	g.cache = pool.NewCache()
	return g
}

func (g *genPort) RxBurst(q int, bufs []*pkt.Buf) int {
	if g.frame == nil || g.limit == 0 {
		return 0
	}
	n := len(bufs)
	if g.limit > 0 {
		n = int(min(int64(n), g.limit))
		g.limit -= int64(n)
	}
	for i := range n {
		b := g.cache.Get()
		if b == nil {
			return i
		}
		b.SetBytes(g.frame)
		bufs[i] = b
	}
	return n
}

func (g *genPort) TxBurst(q int, bufs []*pkt.Buf) int {
	g.sent.Add(uint64(len(bufs)))
	g.cache.PutBulk(bufs)
	return len(bufs)
}

func (g *genPort) RxDone() bool { return g.limit == 0 }

func forwardRig(t testing.TB) (*Engine, *genPort, *genPort) {
	pool := pkt.NewPool("fwd", 8192, 0)
	frame := eth([6]byte{0x02, 0, 0, 0, 0, 0x01}, macA, udp4(ipA, remote, 64, 18, false)) // 64-byte frame
	a := newGenPort("a", 0x01, pool, frame)
	b := newGenPort("b", 0x02, pool, nil)
	e, err := New(Config{
		Ports:     []Port{a, b},
		Addresses: [][]netip.Prefix{{rtrA}, {rtrB}},
		Routes:    []Route{{Dst: netip.MustParsePrefix("203.0.113.0/24"), Via: ipB, Port: 1}},
		Neighbors: []Neighbor{{IP: ipB, MAC: macB, Port: 1}},
		HostPort:  -1,
		Pool:      pool,
		Idle:      IdlePoll,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, a, b
}

func TestForwardingAllocatesNothing(t *testing.T) {
	e, _, b := forwardRig(t)
	c := e.cores[0]
	c.poll() // warm up caches and batches
	allocs := testing.AllocsPerRun(200, func() { c.poll() })
	if allocs != 0 {
		t.Fatalf("%.1f allocations per burst of %d, want 0", allocs, e.cfg.Burst)
	}
	if b.sent.Load() == 0 || c.stats.Drops(stats.ReasonNoBuffer) != 0 {
		t.Fatal("nothing forwarded")
	}
}

func TestStartStopForwardsOnEveryCore(t *testing.T) {
	e, a, b := forwardRig(t)
	a.limit = 10000
	e.cfg.Cores = []int{0, 1}
	e.cfg.Idle = IdleAdaptive
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.sent.Load() < 10000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	e.Stop()
	if got := b.sent.Load(); got != 10000 {
		t.Fatalf("forwarded %d of 10000", got)
	}
	if tot := e.Total(); tot.Forwarded != 10000 || tot.TotalDrops() != 0 {
		t.Fatalf("stats %+v", tot)
	}
}

func TestRunOfflineEnds(t *testing.T) {
	e, a, b := forwardRig(t)
	a.limit = 1000
	b.limit = 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.RunOffline(ctx); err != nil {
		t.Fatal(err)
	}
	if b.sent.Load() != 1000 {
		t.Fatalf("offline run forwarded %d of 1000", b.sent.Load())
	}
}

// BenchmarkForward measures IPv4 forwarding of 64-byte frames on one
// core: rx burst, checks, TTL, LPM route, neighbour, L2 rewrite, tx.
func BenchmarkForward(b *testing.B) {
	e, _, out := forwardRig(b)
	c := e.cores[0]
	c.poll()
	start := out.sent.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.poll()
	}
	n := out.sent.Load() - start
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()/1e6, "Mpps")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/pkt")
}
