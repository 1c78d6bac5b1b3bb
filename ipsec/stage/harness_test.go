package stage

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/esp"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// scriptPort is a raw-IP port whose input is a script: batches of packets
// delivered in order, and functions run between them (install an SA,
// wait) when the core polls. Its input ends with the script, so the
// engine runs it offline, on the test's goroutine.
type scriptPort struct {
	name  string
	pool  *pkt.Pool
	mu    sync.Mutex
	steps []step
	sent  [][]byte
	st    stats.Port
	// discard counts transmitted packets in n instead of keeping copies.
	discard bool
	n       int
}

type step struct {
	pkts [][]byte
	fn   func()
}

func (p *scriptPort) Name() string           { return p.name }
func (p *scriptPort) LinkType() pkt.LinkType { return pkt.LinkRawIP }
func (p *scriptPort) MAC() [6]byte           { return [6]byte{} }
func (p *scriptPort) MTU() int               { return 1500 }
func (p *scriptPort) RxQueues() int          { return 1 }
func (p *scriptPort) TxQueues() int          { return 1 }
func (p *scriptPort) Close() error           { return nil }
func (p *scriptPort) Stats() stats.PortSnapshot {
	return p.st.Snapshot()
}

func (p *scriptPort) RxBurst(q int, bufs []*pkt.Buf) int {
	p.mu.Lock()
	if len(p.steps) == 0 {
		p.mu.Unlock()
		return 0
	}
	s := &p.steps[0]
	if s.fn != nil {
		fn := s.fn
		p.steps = p.steps[1:]
		p.mu.Unlock()
		fn()
		return 0
	}
	n := 0
	for n < len(bufs) && len(s.pkts) > 0 {
		b := p.pool.Get()
		if b == nil || !b.SetBytes(s.pkts[0]) {
			panic("script port: no buffer")
		}
		bufs[n] = b
		n++
		s.pkts = s.pkts[1:]
	}
	if len(s.pkts) == 0 {
		p.steps = p.steps[1:]
	}
	p.mu.Unlock()
	return n
}

func (p *scriptPort) TxBurst(q int, bufs []*pkt.Buf) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range bufs {
		if !p.discard {
			p.sent = append(p.sent, append([]byte(nil), b.Bytes()...))
		}
		p.n++
		b.Free()
	}
	return len(bufs)
}

func (p *scriptPort) RxDone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.steps) == 0
}

// Addresses of the test router and its peer gateway.
var (
	lanAddr  = netip.MustParsePrefix("192.0.2.1/24")
	lanAddr6 = netip.MustParsePrefix("2001:db8:1::1/64")
	wanAddr  = netip.MustParsePrefix("198.51.100.1/24")
	wanAddr6 = netip.MustParsePrefix("2001:db8:2::1/64")
	peer     = netip.MustParseAddr("198.51.100.2")
	peer6    = netip.MustParseAddr("2001:db8:2::2")
)

// router is one engine with the IPsec stages over three script ports:
// lan (0), wan (1) and the host path (2).
type router struct {
	lan, wan, host *scriptPort
	pool           *pkt.Pool
	deps           Deps
	acquires       []acquired
	e              *engine.Engine
}

// acquired is one ACQUIRE the stage raised.
type acquired struct {
	p   *spd.Policy
	r   *spd.Request
	key spd.Key
}

func newRouter(t testing.TB, kn knobs.Values) *router {
	t.Helper()
	r := &router{pool: pkt.NewPool("test", 2048, 0)}
	r.lan = &scriptPort{name: "lan", pool: r.pool}
	r.wan = &scriptPort{name: "wan", pool: r.pool}
	r.host = &scriptPort{name: "host", pool: r.pool}
	r.deps = Deps{SAD: sad.NewStore(), SPD: spd.NewStore(), Knobs: knobs.NewHolder(kn), Stats: NewStats(),
		Acquire: func(p *spd.Policy, rq *spd.Request, key spd.Key) {
			r.acquires = append(r.acquires, acquired{p, rq, key})
		}}
	return r
}

// run processes the scripts offline and returns the engine's totals.
func (r *router) run(t testing.TB) stats.CoreSnapshot {
	t.Helper()
	e, err := engine.New(engine.Config{
		Ports:     []engine.Port{r.lan, r.wan, r.host},
		Addresses: [][]netip.Prefix{{lanAddr, lanAddr6}, {wanAddr, wanAddr6}, nil},
		Routes: []engine.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: peer, Port: 1},
			{Dst: netip.MustParsePrefix("::/0"), Via: peer6, Port: 1}},
		HostPort: 2,
		Pool:     r.pool,
		Inbound:  []engine.StageFactory{Inbound(r.deps)},
		Outbound: []engine.StageFactory{Outbound(r.deps)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	if err := e.RunOffline(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, n := r.pool.Available(), r.pool.Total(); a != n {
		t.Fatalf("buffers leaked: %d of %d back in the pool", a, n)
	}
	return e.Total()
}

// sa installs an AES-GCM ESP SA.
func (r *router) sa(t testing.TB, spi uint32, mode sad.Mode, src, dst netip.Addr, reqid uint32) *sad.SA {
	t.Helper()
	s := newSA(t, spi, mode, src, dst, reqid)
	if err := r.deps.SAD.Add(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func newSA(t testing.TB, spi uint32, mode sad.Mode, src, dst netip.Addr, reqid uint32) *sad.SA {
	t.Helper()
	key := make([]byte, 20)
	binary.BigEndian.PutUint32(key, spi)
	s, err := sad.New(sad.Config{SPI: spi, Proto: sad.ProtoESP, Mode: mode, Src: src, Dst: dst, ReqID: reqid,
		Enc: alg.EncAESGCM16, EncKey: key, ReplayWindow: 64}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// policy installs p.
func (r *router) policy(t testing.TB, p spd.Policy) *spd.Policy {
	t.Helper()
	got, err := r.deps.SPD.Add(p)
	if err != nil {
		t.Fatal(err)
	}
	return &got
}

// --- packets, built independently of the code under test ---

// udp builds an IPv4 or IPv6 UDP packet.
func udp(src, dst string, sport, dport uint16, n int) []byte {
	return l4(src, dst, hdr.ProtoUDP, func(p []byte) {
		binary.BigEndian.PutUint16(p[0:], sport)
		binary.BigEndian.PutUint16(p[2:], dport)
		binary.BigEndian.PutUint16(p[4:], uint16(len(p)))
	}, 8+n)
}

// icmp builds an ICMP (IPv4) or ICMPv6 (IPv6) message of type and code.
func icmp(src, dst string, typ, code uint8) []byte {
	proto := uint8(hdr.ProtoICMP)
	if netip.MustParseAddr(src).Is6() {
		proto = hdr.ProtoICMPv6
	}
	return l4(src, dst, proto, func(p []byte) { p[0], p[1] = typ, code }, 16)
}

func tcp(src, dst string, sport, dport uint16) []byte {
	return l4(src, dst, hdr.ProtoTCP, func(p []byte) {
		binary.BigEndian.PutUint16(p[0:], sport)
		binary.BigEndian.PutUint16(p[2:], dport)
		p[12] = 5 << 4
	}, 20)
}

// l4 wraps an upper-layer header of n bytes (filled by fill) in an IP
// header with a full checksum; upper-layer checksums are left zero (the
// router does not check them).
func l4(src, dst string, proto uint8, fill func([]byte), n int) []byte {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	if s.Is4() {
		p := make([]byte, 20+n)
		p[0], p[8], p[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		a, b := s.As4(), d.As4()
		copy(p[12:], a[:])
		copy(p[16:], b[:])
		binary.BigEndian.PutUint16(p[10:], hdr.Checksum(p[:20], 0))
		fill(p[20:])
		for i := range p[20+8:] {
			p[28+i] = byte(i)
		}
		if proto == hdr.ProtoTCP {
			p[20+12] = 5 << 4
		}
		return p
	}
	p := make([]byte, 40+n)
	p[0], p[6], p[7] = 0x60, proto, 64
	binary.BigEndian.PutUint16(p[4:], uint16(n))
	a, b := s.As16(), d.As16()
	copy(p[8:], a[:])
	copy(p[24:], b[:])
	fill(p[40:])
	return p
}

// esp encapsulates inner packets with the peer's copy of an SA (the code
// under test then decrypts them; the ESP transform has its own tests).
func espPackets(t testing.TB, s *sad.SA, inner ...[]byte) [][]byte {
	t.Helper()
	pool := pkt.NewPool("esp", 64, 0)
	pr := esp.NewProcessor(alg.NewGoEngine())
	var out [][]byte
	for _, in := range inner {
		b := pool.Get()
		b.SetBytes(in)
		res := []stats.Reason{0}
		pr.Encap([]*pkt.Buf{b}, []*sad.SA{s}, res, esp.Options{})
		if res[0] != stats.ReasonNone {
			t.Fatalf("esp: %v", res[0])
		}
		out = append(out, append([]byte(nil), b.Bytes()...))
		b.Free()
	}
	return out
}

// outcome is what became of one packet.
type outcome struct {
	port string       // "lan", "wan", "host", or "" when dropped
	spi  uint32       // ESP SPI when it left encrypted, else 0
	drop stats.Reason // why it was dropped
}

// only returns the single packet a router sent, and where.
func (r *router) only(t testing.TB, tot stats.CoreSnapshot) outcome {
	t.Helper()
	var o outcome
	n := 0
	for _, p := range []*scriptPort{r.lan, r.wan, r.host} {
		for _, b := range p.sent {
			n++
			o.port = p.name
			o.spi = espSPI(b)
		}
	}
	for name, c := range tot.Drops {
		if c > 0 {
			n += int(c)
			for i := stats.Reason(0); i < stats.NumReasons; i++ {
				if i.String() == name {
					o.drop = i
				}
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d outcomes for one packet: lan %d wan %d host %d drops %v", n,
			len(r.lan.sent), len(r.wan.sent), len(r.host.sent), tot.Drops)
	}
	return o
}

// espSPI returns the SPI of an ESP packet without extension headers, or 0.
func espSPI(p []byte) uint32 {
	switch {
	case p[0]>>4 == 4 && p[9] == hdr.ProtoESP:
		return binary.BigEndian.Uint32(p[20:])
	case p[0]>>4 == 6 && p[6] == hdr.ProtoESP:
		return binary.BigEndian.Uint32(p[40:])
	}
	return 0
}
