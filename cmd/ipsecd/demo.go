package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/stage"
	"github.com/fastipsec/fastipsec/perf"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// demoSetkey keys the demo tunnel; gateway B's copy swaps in and out.
//
//go:embed demo.setkey
var demoSetkey string

// demoSummary is what `ipsecd demo --json` prints.
type demoSummary struct {
	Sent      uint64            `json:"sent"`
	Encrypted uint64            `json:"encrypted"`
	Decrypted uint64            `json:"decrypted"`
	Received  uint64            `json:"received"`
	Lost      uint64            `json:"lost"`
	Seconds   float64           `json:"seconds"`
	FrameSize int               `json:"frame_size"`
	Mpps      float64           `json:"mpps"`
	Gbps      float64           `json:"gbps"`
	Drops     map[string]uint64 `json:"drops,omitempty"`
}

// gateway is one router of the demo with its control plane.
type gateway struct {
	e     *engine.Engine
	mgr   *ctrl.Manager
	stats *stage.Stats
	enc   *enc.Interface
}

func newGateway(name string, lan, wan engine.Port, lanNet, wanNet, remote string, peer netip.Addr, peerMAC [6]byte,
	neighbors []engine.Neighbor, keys string, pool *pkt.Pool) (*gateway, error) {
	g := &gateway{mgr: ctrl.NewManager(nil), stats: stage.NewStats(), enc: enc.New("enc0")}
	cmds, err := setkey.Parse(name+".setkey", strings.NewReader(keys))
	if err != nil {
		return nil, err
	}
	if err := g.mgr.ApplySetkey(name+".setkey", cmds); err != nil {
		return nil, err
	}
	deps := stage.Deps{SAD: g.mgr.SAD, SPD: g.mgr.SPD, Knobs: g.mgr.Knobs, Stats: g.stats, Acquire: g.mgr.Acquire}
	deps.Enc = g.enc
	e, err := engine.New(engine.Config{
		Ports:     []engine.Port{lan, wan},
		Addresses: [][]netip.Prefix{{netip.MustParsePrefix(lanNet)}, {netip.MustParsePrefix(wanNet)}},
		Routes:    []engine.Route{{Dst: netip.MustParsePrefix(remote), Via: peer, Port: 1}},
		Neighbors: append(neighbors, engine.Neighbor{IP: peer, MAC: peerMAC, Port: 1}),
		HostPort:  -1,
		Pool:      pool,
		Idle:      engine.IdleAdaptive,
		Inbound:   []engine.StageFactory{stage.Inbound(deps)},
		Outbound:  []engine.StageFactory{stage.Outbound(deps)},
	})
	if err != nil {
		return nil, err
	}
	g.e = e
	return g, nil
}

// mirror swaps the directions of a setkey file's policies (gateway B).
func mirror(s string) string {
	s = strings.ReplaceAll(s, "-P out", "-P @@")
	s = strings.ReplaceAll(s, "-P in", "-P out")
	return strings.ReplaceAll(s, "-P @@", "-P in")
}

// demoTunnel is the demo's topology over in-memory ring ports, gateway A
// keyed with a setkey file and B with its mirror, and the flows the
// generator sends from 192.0.2.10 to 203.0.113.10:
//
//	gen ─► [A lan 192.0.2.1 | wan 198.51.100.1] ─► [B wan 198.51.100.2 | lan 203.0.113.1] ─► sink
type demoTunnel struct {
	gen, sink *ring.Port
	flows     *perf.Flows
	a, b      *gateway
}

// newDemoTunnel builds the demo's topology with keysA for A and flows
// UDP flows of size-byte frames.
func newDemoTunnel(keysA string, pool *pkt.Pool, flows, size int) (*demoTunnel, error) {
	gen, aLan := ring.NewPair(ring.Config{Name: "gen"}, ring.Config{Name: "a-lan"})
	aWan, bWan := ring.NewPair(ring.Config{Name: "a-wan", Size: 4096}, ring.Config{Name: "b-wan", Size: 4096})
	bLan, sink := ring.NewPair(ring.Config{Name: "b-lan"}, ring.Config{Name: "sink", Size: 4096})
	gwA, err := newGateway("a", aLan, aWan, "192.0.2.1/24", "198.51.100.1/24", "203.0.113.0/24",
		netip.MustParseAddr("198.51.100.2"), bWan.MAC(), nil, keysA, pool)
	if err != nil {
		return nil, fmt.Errorf("gateway A: %w", err)
	}
	gwB, err := newGateway("b", bLan, bWan, "203.0.113.1/24", "198.51.100.2/24", "192.0.2.0/24",
		netip.MustParseAddr("198.51.100.1"), aWan.MAC(),
		[]engine.Neighbor{{IP: netip.MustParseAddr("203.0.113.10"), MAC: sink.MAC(), Port: 0}}, mirror(keysA), pool)
	if err != nil {
		return nil, fmt.Errorf("gateway B: %w", err)
	}
	fl, err := perf.BuildFlows(perf.FlowSpec{SrcMAC: gen.MAC(), DstMAC: aLan.MAC(),
		Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("203.0.113.10"), Flows: flows, FrameSize: size})
	if err != nil {
		return nil, err
	}
	return &demoTunnel{gen: gen, sink: sink, flows: fl, a: gwA, b: gwB}, nil
}

// runDemo sends UDP traffic from a generator through an encrypted tunnel
// between two gateways over in-memory ring ports and prints the rates.
//
//	generator ─ring─► [A: lan → ESP encrypt → wan] ─ring─► [B: wan → ESP decrypt → lan] ─ring─► sink
func runDemo(args []string) error {
	fs := flag.NewFlagSet("ipsecd demo", flag.ContinueOnError)
	duration := fs.Duration("duration", 5*time.Second, "how long to send")
	asJSON := fs.Bool("json", false, "print one JSON summary instead of per-second lines")
	size := fs.Int("size", 64, "Ethernet frame size in bytes, FCS included (64..1518)")
	flows := fs.Int("flows", 16, "number of UDP flows")
	keys := fs.String("setkey", "", "setkey(8) `file` for gateway A (default: the built-in AES-128-GCM tunnel)")
	adminA := fs.String("admin", "", "serve gateway A's admin API (ipsecctl -s) on this `socket`")
	adminB := fs.String("admin-b", "", "serve gateway B's admin API on this `socket`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keysA := demoSetkey
	if *keys != "" {
		b, err := os.ReadFile(*keys)
		if err != nil {
			return err
		}
		keysA = string(b)
	}
	pool := pkt.NewPool("demo", 32768, 0)
	tun, err := newDemoTunnel(keysA, pool, *flows, *size)
	if err != nil {
		return err
	}
	gen, sink, fl, gwA, gwB := tun.gen, tun.sink, tun.flows, tun.a, tun.b
	traffic := &perf.Traffic{Tx: gen, Rx: sink, Flows: fl, Pool: pool, Window: 1024}

	sig, stopSig := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stopSig()
	ctx, cancel := context.WithTimeout(sig, *duration)
	defer cancel()
	for _, g := range []*gateway{gwA, gwB} {
		if err := g.e.Start(); err != nil {
			return err
		}
		go g.mgr.Run(sig)
	}
	for _, a := range []struct {
		sock string
		g    *gateway
	}{{*adminA, gwA}, {*adminB, gwB}} {
		if a.sock == "" {
			continue
		}
		srv, err := startAdmin(admin.Config{Socket: a.sock, Manager: a.g.mgr, Enc: a.g.enc}, a.g.e, a.g.stats, zap.NewNop())
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	drain := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	go func() { traffic.Run(ctx, drain); close(done) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastT := traffic.Counters(), start
	if !*asJSON {
		fmt.Printf("generator -> [A encrypt] -> [B decrypt] -> sink: %d-byte frames, %d flows, %s\n", *size, *flows, *duration)
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
				fmt.Printf("%5.1fs  %8.3f Mpps  %7.3f Gbit/s  sent %d  encrypted %d  decrypted %d  received %d\n",
					now.Sub(start).Seconds(), float64(c.Received-last.Received)/dt/1e6,
					float64(c.RxBytes-last.RxBytes)*8/dt/1e9, c.Sent,
					gwA.stats.ESP().Output, gwB.stats.ESP().Input, c.Received)
			}
			last, lastT = c, now
		}
	}
	elapsed := time.Since(start)
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
	drops := gwA.e.Total()
	drops.Add(gwB.e.Total())
	s := demoSummary{
		Sent: c.Sent, Encrypted: gwA.stats.ESP().Output, Decrypted: gwB.stats.ESP().Input,
		Received: c.Received, Lost: c.Sent - c.Received, Seconds: elapsed.Seconds(), FrameSize: *size,
		Mpps: float64(c.Received) / elapsed.Seconds() / 1e6, Gbps: float64(c.RxBytes) * 8 / elapsed.Seconds() / 1e9,
		Drops: drops.Drops,
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(s)
	}
	fmt.Printf("total: sent %d, encrypted %d, decrypted %d, received %d, lost %d, %.3f Mpps, %.3f Gbit/s average\n",
		s.Sent, s.Encrypted, s.Decrypted, s.Received, s.Lost, s.Mpps, s.Gbps)
	return nil
}
