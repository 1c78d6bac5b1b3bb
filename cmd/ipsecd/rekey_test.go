package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/perf"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// TestRekeyUnderLoadLosesNothing runs the demo's two gateways over ring
// ports with a generator in each direction, rekeys as a keying daemon
// does — new SA pair installed on both sides (inbound first), then the
// old pair deleted (outbound first, inbound once its last packets have
// arrived) — and counts every packet: sent == received both ways, no
// drop anywhere, the new SAs carrying the traffic at the end. Under
// net.key.preferred_oldsa 1 the switch happens at the deletion, under 0
// at the installation.
func TestRekeyUnderLoadLosesNothing(t *testing.T) {
	for _, old := range []int{1, 0} {
		t.Run(fmt.Sprintf("preferred_oldsa=%d", old), func(t *testing.T) { rekeyUnderLoad(t, old) })
	}
}

func rekeyUnderLoad(t *testing.T, preferOld int) {
	pool := pkt.NewPool("rekey", 16384, 0)
	genA, aLan := ring.NewPair(ring.Config{Name: "gen-a", Size: 4096}, ring.Config{Name: "a-lan", Size: 4096})
	aWan, bWan := ring.NewPair(ring.Config{Name: "a-wan", Size: 4096}, ring.Config{Name: "b-wan", Size: 4096})
	bLan, genB := ring.NewPair(ring.Config{Name: "b-lan", Size: 4096}, ring.Config{Name: "gen-b", Size: 4096})
	hostA, hostB := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("203.0.113.10")
	gwA, err := newGateway("a", aLan, aWan, "192.0.2.1/24", "198.51.100.1/24", "203.0.113.0/24",
		netip.MustParseAddr("198.51.100.2"), bWan.MAC(), []engine.Neighbor{{IP: hostA, MAC: genA.MAC(), Port: 0}}, demoSetkey, pool)
	if err != nil {
		t.Fatal(err)
	}
	gwB, err := newGateway("b", bLan, bWan, "203.0.113.1/24", "198.51.100.2/24", "192.0.2.0/24",
		netip.MustParseAddr("198.51.100.1"), aWan.MAC(), []engine.Neighbor{{IP: hostB, MAC: genB.MAC(), Port: 0}}, mirror(demoSetkey), pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*gateway{gwA, gwB} {
		if err := g.mgr.Sysctl([][2]string{{"net.key.preferred_oldsa", fmt.Sprint(preferOld)}}); err != nil {
			t.Fatal(err)
		}
	}
	flowsAB, err := perf.BuildFlows(perf.FlowSpec{SrcMAC: genA.MAC(), DstMAC: aLan.MAC(), Src: hostA, Dst: hostB, Flows: 16, FrameSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	flowsBA, err := perf.BuildFlows(perf.FlowSpec{SrcMAC: genB.MAC(), DstMAC: bLan.MAC(), Src: hostB, Dst: hostA, Flows: 16, FrameSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	ab := &perf.Traffic{Tx: genA, Rx: genB, Flows: flowsAB, Pool: pool, Window: 512}
	ba := &perf.Traffic{Tx: genB, Rx: genA, Flows: flowsBA, Pool: pool, Window: 512}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, g := range []*gateway{gwA, gwB} {
		if err := g.e.Start(); err != nil {
			t.Fatal(err)
		}
		go g.mgr.Run(ctx)
	}
	sending, stopSending := context.WithCancel(ctx)
	drain := make(chan struct{})
	done := make(chan struct{}, 2)
	for _, tr := range []*perf.Traffic{ab, ba} {
		go func() { tr.Run(sending, drain); done <- struct{}{} }()
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopSending()
		close(drain)
		<-done
		<-done
		gwA.e.Stop()
		gwB.e.Stop()
	}
	defer stop()

	// progress waits until both directions have received n more packets.
	progress := func(what string, n uint64) {
		t.Helper()
		a0, b0 := ab.Counters().Received, ba.Counters().Received
		deadline := time.Now().Add(60 * time.Second)
		for ab.Counters().Received < a0+n || ba.Counters().Received < b0+n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: traffic stalled: a->b %+v, b->a %+v, drops %v %v", what, ab.Counters(), ba.Counters(),
					gwA.e.Total().Drops, gwB.e.Total().Drops)
			}
			time.Sleep(time.Millisecond)
		}
	}
	apply := func(g *gateway, text string) {
		t.Helper()
		cmds, err := setkey.Parse("rekey", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.mgr.ApplySetkey("rekey", cmds); err != nil {
			t.Fatal(err)
		}
	}
	const (
		newAB = "add 198.51.100.1 198.51.100.2 esp 0x10011 -m tunnel -r 256 -E aes-gcm-16 0x0f0e0d0c0b0a09080706050403020100b1b2b3b4;"
		newBA = "add 198.51.100.2 198.51.100.1 esp 0x20022 -m tunnel -r 256 -E aes-gcm-16 0x101112131415161718191a1b1c1d1e1fc1c2c3c4;"
	)
	a1, b1 := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	sa := func(g *gateway, src, dst netip.Addr, spi uint32) *sad.SA {
		s, ok := g.mgr.SAD.Get(sad.ProtoESP, src, dst, spi)
		if !ok {
			t.Fatalf("no SA %#x", spi)
		}
		return s
	}
	// retire deletes the old SA of one direction: at the sender first,
	// then at the receiver once every packet sent with it has arrived.
	retire := func(sender, receiver *gateway, src, dst netip.Addr, spi uint32) {
		t.Helper()
		out, in := sa(sender, src, dst, spi), sa(receiver, src, dst, spi)
		apply(sender, fmt.Sprintf("delete %s %s esp %#x;", src, dst, spi))
		deadline := time.Now().Add(60 * time.Second)
		for stable := 0; stable < 3; {
			if in.Counters().Packets == out.Seq() {
				stable++
			} else {
				stable = 0
			}
			if time.Now().After(deadline) {
				t.Fatalf("SA %#x: %d sent, %d received", spi, out.Seq(), in.Counters().Packets)
			}
			time.Sleep(5 * time.Millisecond)
		}
		apply(receiver, fmt.Sprintf("delete %s %s esp %#x;", src, dst, spi))
	}

	progress("before the rekey", 20000)
	apply(gwB, newAB) // receivers first
	apply(gwA, newBA)
	apply(gwA, newAB)
	apply(gwB, newBA)
	progress("both pairs installed", 20000)
	retire(gwA, gwB, a1, b1, 0x10001)
	retire(gwB, gwA, b1, a1, 0x20002)
	progress("after the rekey", 20000)

	stopSending()
	// Wait for what is in flight: every packet sent must arrive (a pause
	// in the arrivals proves nothing on a loaded machine).
	for deadline, caughtUp := time.Now().Add(30*time.Second), 0; caughtUp < 2; {
		a, b := ab.Counters(), ba.Counters()
		if a.Received >= a.Sent && b.Received >= b.Sent {
			caughtUp++ // twice, in case a send was under way at the stop
		} else if caughtUp = 0; time.Now().After(deadline) {
			break // the checks below report the shortfall
		}
		time.Sleep(5 * time.Millisecond)
	}
	newOut := sa(gwA, a1, b1, 0x10011).Seq()
	stop()
	for _, d := range []struct {
		name string
		tr   *perf.Traffic
	}{{"a->b", ab}, {"b->a", ba}} {
		c := d.tr.Counters()
		if c.Sent != c.Received || c.Sent < 60000 {
			t.Errorf("%s: sent %d, received %d", d.name, c.Sent, c.Received)
		}
	}
	for name, g := range map[string]*gateway{"A": gwA, "B": gwB} {
		if d := g.e.Total().Drops; len(d) != 0 {
			t.Errorf("gateway %s dropped %v", name, d)
		}
		if g.mgr.SAD.Len() != 2 {
			t.Errorf("gateway %s holds %d SAs", name, g.mgr.SAD.Len())
		}
	}
	if newOut < 20000 {
		t.Errorf("the new SA carried %d packets", newOut)
	}
	t.Logf("a->b %+v, b->a %+v; new SA a->b carried %d", ab.Counters(), ba.Counters(), newOut)
}
