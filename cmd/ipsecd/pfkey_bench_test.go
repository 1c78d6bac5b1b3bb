package main

import (
	"context"
	"flag"
	"net"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/keyserver"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/perf"
)

// fwdPPS is the forwarding load of BenchmarkPFKeyAddWhileForwarding.
var fwdPPS = flag.Int("fwdpps", 20000, "packets per second the paced generator sends through the tunnel while ADDing")

// BenchmarkPFKeyAddWhileForwarding is SADB_ADD per second over gateway
// A's PF_KEY socket while the demo tunnel (paced generator -> A encrypt
// -> B decrypt -> sink) forwards a fixed load (-fwdpps); every packet sent
// must arrive (lost = 0). The gateways back off when idle (IdleAdaptive)
// and the generator sleeps between bursts, as on a small box, so the
// figure is the control plane's rate, not a fight between busy loops.
// The ADDed SAs are for other peers, so the index grows and is
// republished under the cores' lookups.
func BenchmarkPFKeyAddWhileForwarding(b *testing.B) {
	pool := pkt.NewPool("bench", 32768, 0)
	tun, err := newDemoTunnel(demoSetkey, pool, 16, 64)
	if err != nil {
		b.Fatal(err)
	}
	gen, sink, fl, gwA, gwB := tun.gen, tun.sink, tun.flows, tun.a, tun.b
	traffic := &pacedTraffic{tx: gen, rx: sink, flows: fl, pool: pool, pps: *fwdPPS}

	ks, err := keyserver.New(gwA.mgr, "linux", nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := keysock.Listen(keysock.Config{Path: filepath.Join(b.TempDir(), "pfkey.sock")}, ks, nil)
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, g := range []*gateway{gwA, gwB} {
		if err := g.e.Start(); err != nil {
			b.Fatal(err)
		}
		go g.mgr.Run(ctx)
	}
	nc, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: srv.Path(), Net: "unixpacket"})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	nc.SetWriteBuffer(1 << 20) // a client that pipelines its requests
	msgs := make([][]byte, b.N)
	key := []byte("0123456789abcdefSALT")
	for i := range msgs {
		m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgAdd, SAType: pfkey.SATypeESP, Seq: uint32(i + 1)},
			SA:     &pfkey.SA{SPI: uint32(0x10000 + i), Replay: 32, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
			SA2:    &pfkey.SA2{Mode: pfkey.ModeTunnel},
			Src:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 32, Addr: netip.MustParseAddrPort("198.51.100.1:0")},
			Dst:    &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: 32, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 0)},
			EncKey: &pfkey.Key{Bits: 160, Data: key}}
		if msgs[i], err = pfkey.Encode(pfkey.Linux, m); err != nil {
			b.Fatal(err)
		}
	}

	tctx, stopTraffic := context.WithCancel(context.Background())
	drain, done := make(chan struct{}), make(chan struct{})
	go func() { traffic.run(tctx, drain); close(done) }()
	time.Sleep(100 * time.Millisecond) // traffic flowing before the first ADD
	// What forwarding alone costs: the cores' share left to the control plane.
	fwdCPU, fwdStart := cpuTime(), time.Now()
	time.Sleep(500 * time.Millisecond)
	fwdCores := float64(cpuTime()-fwdCPU) / float64(time.Since(fwdStart))
	before := traffic.counters()
	b.ResetTimer()
	cpu := cpuTime()
	wdone := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if _, err := nc.Write(m); err != nil {
				wdone <- err
				return
			}
		}
		wdone <- nil
	}()
	buf := make([]byte, 4096)
	for range b.N {
		n, err := nc.Read(buf)
		if err != nil {
			b.Fatal(err)
		}
		if n < 16 || buf[2] != 0 {
			b.Fatalf("ADD failed: %x", buf[:min(n, 16)])
		}
	}
	if err := <-wdone; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpuUsed := cpuTime() - cpu
	during := traffic.counters()
	stopTraffic()
	// Wait for what is in flight (engines that sleep when idle and share
	// two cores with everything else can take a while to wake).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if c := traffic.counters(); c.Received == c.Sent {
			break
		}
	}
	close(drain)
	<-done
	gwA.e.Stop()
	gwB.e.Stop()
	c := traffic.counters()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	b.ReportMetric(float64(cpuUsed.Microseconds())/float64(b.N), "cpu-µs/add")
	b.ReportMetric(fwdCores, "fwd-only-cores")
	b.ReportMetric(float64(during.Received-before.Received)/b.Elapsed().Seconds(), "fwd-pps")
	b.ReportMetric(float64(c.Sent-c.Received), "lost")
	b.ReportMetric(float64(c.Late), "late-rounds")
	if c.Sent != c.Received {
		drops := gwA.e.Total()
		drops.Add(gwB.e.Total())
		b.Errorf("sent %d, received %d: %d lost while adding SAs; drops %v", c.Sent, c.Received, c.Sent-c.Received, drops.Drops)
	}
	if got := gwA.mgr.SAD.Len(); got < b.N {
		b.Errorf("%d SAs in gateway A, want at least %d", got, b.N)
	}
}

// pacedTraffic sends its flows at a fixed rate: every round it sends what
// the clock says is owed since the start (at most one ring's worth), drains
// the sink, then sleeps, so it costs a fraction of a core instead of
// spinning like perf.Traffic's closed loop.
type pacedTraffic struct {
	tx, rx perf.BurstPort
	flows  *perf.Flows
	pool   *pkt.Pool
	pps    int

	sent, received, late atomic.Uint64
}

// trafficCounts is a snapshot: packets sent and received, and rounds that
// found the generator ring full (the tunnel behind the pace).
type trafficCounts struct{ Sent, Received, Late uint64 }

func (t *pacedTraffic) counters() trafficCounts {
	return trafficCounts{Sent: t.sent.Load(), Received: t.received.Load(), Late: t.late.Load()}
}

// run sends until ctx ends, then receives until drain closes.
func (t *pacedTraffic) run(ctx context.Context, drain <-chan struct{}) {
	cache := t.pool.NewCache()
	defer cache.Flush()
	tx := make([]*pkt.Buf, pkt.BurstSize)
	rx := make([]*pkt.Buf, pkt.BurstSize)
	start := time.Now()
	next := 0
	for {
		sending := ctx.Err() == nil
		if !sending {
			select {
			case <-drain:
				return
			default:
			}
		}
		if sending {
			owed := int(min(time.Since(start).Seconds()*float64(t.pps)-float64(t.sent.Load()), 1024))
			for owed > 0 {
				n := cache.GetBulk(tx[:min(owed, len(tx))])
				for i := range n {
					tx[i].SetBytes(t.flows.Frame(next + i))
				}
				sent := t.tx.TxBurst(0, tx[:n])
				cache.PutBulk(tx[sent:n])
				next += sent
				t.sent.Add(uint64(sent))
				owed -= n
				if sent < n || n == 0 {
					t.late.Add(1)
					break
				}
			}
		}
		for {
			m := t.rx.RxBurst(0, rx)
			cache.PutBulk(rx[:m])
			t.received.Add(uint64(m))
			if m < len(rx) {
				break
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// cpuTime is the CPU time the process has used (gateways, generator,
// PF_KEY server and client, collector).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
