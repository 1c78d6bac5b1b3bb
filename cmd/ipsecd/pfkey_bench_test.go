package main

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/keyserver"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/perf"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// BenchmarkPFKeyAddWhileForwarding is SADB_ADD per second over gateway
// A's PF_KEY socket while the demo tunnel (generator -> A encrypt -> B
// decrypt -> sink, closed loop) forwards; every packet sent must arrive
// (lost = 0). The ADDed SAs are for other peers, so the index grows and
// is republished under the cores' lookups.
func BenchmarkPFKeyAddWhileForwarding(b *testing.B) {
	pool := pkt.NewPool("bench", 32768, 0)
	gen, aLan := ring.NewPair(ring.Config{Name: "gen"}, ring.Config{Name: "a-lan"})
	aWan, bWan := ring.NewPair(ring.Config{Name: "a-wan", Size: 4096}, ring.Config{Name: "b-wan", Size: 4096})
	bLan, sink := ring.NewPair(ring.Config{Name: "b-lan"}, ring.Config{Name: "sink", Size: 4096})
	gwA, err := newGateway("a", aLan, aWan, "192.0.2.1/24", "198.51.100.1/24", "203.0.113.0/24",
		netip.MustParseAddr("198.51.100.2"), bWan.MAC(), nil, demoSetkey, pool)
	if err != nil {
		b.Fatal(err)
	}
	gwB, err := newGateway("b", bLan, bWan, "203.0.113.1/24", "198.51.100.2/24", "192.0.2.0/24",
		netip.MustParseAddr("198.51.100.1"), aWan.MAC(),
		[]engine.Neighbor{{IP: netip.MustParseAddr("203.0.113.10"), MAC: sink.MAC(), Port: 0}}, mirror(demoSetkey), pool)
	if err != nil {
		b.Fatal(err)
	}
	fl, err := perf.BuildFlows(perf.FlowSpec{SrcMAC: gen.MAC(), DstMAC: aLan.MAC(),
		Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("203.0.113.10"), Flows: 16, FrameSize: 64})
	if err != nil {
		b.Fatal(err)
	}
	traffic := &perf.Traffic{Tx: gen, Rx: sink, Flows: fl, Pool: pool, Window: 1024}

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
	go func() { traffic.Run(tctx, drain); close(done) }()
	time.Sleep(100 * time.Millisecond) // traffic flowing before the first ADD
	before := traffic.Counters()
	b.ResetTimer()
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
	during := traffic.Counters()
	stopTraffic()
	for prev := uint64(0); ; {
		time.Sleep(50 * time.Millisecond)
		c := traffic.Counters()
		if c.Received == c.Sent || c.Received == prev {
			break
		}
		prev = c.Received
	}
	close(drain)
	<-done
	gwA.e.Stop()
	gwB.e.Stop()
	c := traffic.Counters()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	b.ReportMetric(float64(during.Received-before.Received)/b.Elapsed().Seconds(), "fwd-pps")
	b.ReportMetric(float64(c.Sent-c.Received), "lost")
	if c.Sent != c.Received {
		b.Errorf("sent %d, received %d: %d lost while adding SAs", c.Sent, c.Received, c.Sent-c.Received)
	}
	if got := gwA.mgr.SAD.Len(); got < b.N {
		b.Errorf("%d SAs in gateway A, want at least %d", got, b.N)
	}
}
