package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/perf"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// demoSummary is what `ipsecd demo --json` prints.
type demoSummary struct {
	Sent      uint64            `json:"sent"`
	Forwarded uint64            `json:"forwarded"`
	Received  uint64            `json:"received"`
	Lost      uint64            `json:"lost"`
	Seconds   float64           `json:"seconds"`
	FrameSize int               `json:"frame_size"`
	Mpps      float64           `json:"mpps"`
	Gbps      float64           `json:"gbps"`
	Drops     map[string]uint64 `json:"drops,omitempty"`
}

// runDemo sends UDP traffic from a generator through one router over
// in-memory ring ports to a sink and prints the rates every second.
//
//	generator ─ring─► [lan  router  wan] ─ring─► sink
func runDemo(args []string) error {
	fs := flag.NewFlagSet("ipsecd demo", flag.ContinueOnError)
	duration := fs.Duration("duration", 5*time.Second, "how long to send")
	asJSON := fs.Bool("json", false, "print one JSON summary instead of per-second lines")
	size := fs.Int("size", 64, "Ethernet frame size in bytes, FCS included (64..1518)")
	flows := fs.Int("flows", 16, "number of UDP flows")
	v6 := fs.Bool("6", false, "send IPv6 instead of IPv4")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool := pkt.NewPool("demo", 16384, 0)
	gen, lan := ring.NewPair(ring.Config{Name: "gen"}, ring.Config{Name: "lan"})
	wan, sink := ring.NewPair(ring.Config{Name: "wan"}, ring.Config{Name: "sink", Size: 4096})
	src, dst := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("203.0.113.10")
	if *v6 {
		src, dst = netip.MustParseAddr("2001:db8:1::10"), netip.MustParseAddr("2001:db8:3::10")
	}
	e, err := engine.New(engine.Config{
		Ports: []engine.Port{lan, wan},
		Addresses: [][]netip.Prefix{
			{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8:1::1/64")},
			{netip.MustParsePrefix("198.51.100.1/24"), netip.MustParsePrefix("2001:db8:2::1/64")},
		},
		Routes: []engine.Route{
			{Dst: netip.MustParsePrefix("203.0.113.0/24"), Via: netip.MustParseAddr("198.51.100.2"), Port: 1},
			{Dst: netip.MustParsePrefix("2001:db8:3::/48"), Via: netip.MustParseAddr("2001:db8:2::2"), Port: 1},
		},
		Neighbors: []engine.Neighbor{
			{IP: netip.MustParseAddr("198.51.100.2"), MAC: sink.MAC(), Port: 1},
			{IP: netip.MustParseAddr("2001:db8:2::2"), MAC: sink.MAC(), Port: 1},
		},
		HostPort: -1,
		Pool:     pool,
		Idle:     engine.IdleAdaptive,
	})
	if err != nil {
		return err
	}
	fl, err := perf.BuildFlows(perf.FlowSpec{SrcMAC: gen.MAC(), DstMAC: lan.MAC(), Src: src, Dst: dst, Flows: *flows, FrameSize: *size})
	if err != nil {
		return err
	}
	traffic := &perf.Traffic{Tx: gen, Rx: sink, Flows: fl, Pool: pool}

	sig, stopSig := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stopSig()
	ctx, cancel := context.WithTimeout(sig, *duration)
	defer cancel()
	if err := e.Start(); err != nil {
		return err
	}
	drain := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	go func() { traffic.Run(ctx, drain); close(done) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastT := traffic.Counters(), start
	if !*asJSON {
		fmt.Printf("generator -> [lan router wan] -> sink, %d-byte frames, %d flows, %s\n", *size, *flows, *duration)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-tick.C:
			c := traffic.Counters()
			if !*asJSON {
				dt := now.Sub(lastT).Seconds()
				pps := float64(c.Received-last.Received) / dt
				bps := float64(c.RxBytes-last.RxBytes) * 8 / dt
				fmt.Printf("%5.1fs  %8.3f Mpps  %7.3f Gbit/s  sent %d  received %d\n",
					now.Sub(start).Seconds(), pps/1e6, bps/1e9, c.Sent, c.Received)
			}
			last, lastT = c, now
		}
	}
	elapsed := time.Since(start)
	// Let what is in flight arrive, then stop.
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
	e.Stop()
	c := traffic.Counters()
	tot := e.Total()
	s := demoSummary{
		Sent: c.Sent, Forwarded: tot.Forwarded, Received: c.Received, Lost: c.Sent - c.Received,
		Seconds: elapsed.Seconds(), FrameSize: *size,
		Mpps:  float64(c.Received) / elapsed.Seconds() / 1e6,
		Gbps:  float64(c.RxBytes) * 8 / elapsed.Seconds() / 1e9,
		Drops: tot.Drops,
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(s)
	}
	fmt.Printf("total: sent %d, received %d, lost %d, %.3f Mpps, %.3f Gbit/s average\n", s.Sent, s.Received, s.Lost, s.Mpps, s.Gbps)
	return nil
}
