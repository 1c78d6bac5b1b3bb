package tap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/internal/netnstest"
)

var (
	hostV4   = netip.MustParsePrefix("192.0.2.1/24")
	routerV4 = netip.MustParseAddr("192.0.2.2")
	hostV6   = netip.MustParsePrefix("2001:db8:1::1/64")
	routerV6 = netip.MustParseAddr("2001:db8:1::2")
)

// openIn creates a port inside a fresh namespace; closing it and deleting
// the namespace are registered with t.Cleanup.
func openIn(t testing.TB, cfg Config, pool *pkt.Pool) (*Port, string) {
	t.Helper()
	netnstest.RequireRoot(t)
	ns := netnstest.NewNS(t, "tap")
	netnstest.EnableIPv6(t, ns)
	if cfg.Name == "" {
		cfg.Name = netnstest.Name(t, "t")
	}
	var p *Port
	netnstest.Do(t, ns, func() (err error) {
		p, err = Open(cfg, pool)
		return err
	})
	t.Cleanup(func() { p.Close() })
	return p, ns
}

func csum(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// echoRequest builds an ICMP or ICMPv6 echo request from src to dst.
func echoRequest(src, dst netip.Addr, id, seq uint16, payload []byte) []byte {
	if src.Is4() {
		p := make([]byte, 20+8+len(payload))
		p[0] = 0x45
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		p[8], p[9] = 64, unix.IPPROTO_ICMP
		s, d := src.As4(), dst.As4()
		copy(p[12:], s[:])
		copy(p[16:], d[:])
		binary.BigEndian.PutUint16(p[10:], fold(csum(0, p[:20])))
		icmp := p[20:]
		icmp[0] = 8
		binary.BigEndian.PutUint16(icmp[4:], id)
		binary.BigEndian.PutUint16(icmp[6:], seq)
		copy(icmp[8:], payload)
		binary.BigEndian.PutUint16(icmp[2:], fold(csum(0, icmp)))
		return p
	}
	p := make([]byte, 40+8+len(payload))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(8+len(payload)))
	p[6], p[7] = unix.IPPROTO_ICMPV6, 64
	s, d := src.As16(), dst.As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	icmp := p[40:]
	icmp[0] = 128
	binary.BigEndian.PutUint16(icmp[4:], id)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	copy(icmp[8:], payload)
	pseudo := csum(0, p[8:40]) + uint32(len(icmp)) + unix.IPPROTO_ICMPV6
	binary.BigEndian.PutUint16(icmp[2:], fold(csum(pseudo, icmp)))
	return p
}

// isEchoReply reports whether ip is an echo reply from src to dst with id
// and seq carrying payload.
func isEchoReply(ip []byte, src, dst netip.Addr, id, seq uint16, payload []byte) bool {
	var icmp []byte
	var s, d netip.Addr
	switch {
	case len(ip) >= 28 && ip[0]>>4 == 4 && ip[9] == unix.IPPROTO_ICMP:
		s, d = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		icmp = ip[20:]
		if icmp[0] != 0 || fold(csum(0, icmp)) != 0 {
			return false
		}
	case len(ip) >= 48 && ip[0]>>4 == 6 && ip[6] == unix.IPPROTO_ICMPV6:
		s, d = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		icmp = ip[40:]
		if icmp[0] != 129 || fold(csum(csum(0, ip[8:40])+uint32(len(icmp))+unix.IPPROTO_ICMPV6, icmp)) != 0 {
			return false
		}
	default:
		return false
	}
	return s == src && d == dst && binary.BigEndian.Uint16(icmp[4:]) == id &&
		binary.BigEndian.Uint16(icmp[6:]) == seq && bytes.Equal(icmp[8:], payload)
}

// rxUntil receives until match accepts a packet or timeout passes.
func rxUntil(p *Port, timeout time.Duration, match func([]byte) bool) []byte {
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n := p.RxBurst(0, bufs)
		var found []byte
		for _, b := range bufs[:n] {
			if found == nil && match(b.Bytes()) {
				found = bytes.Clone(b.Bytes())
			}
			b.Free()
		}
		if found != nil {
			return found
		}
		if n == 0 {
			p.Wait(0, 10*time.Millisecond)
		}
	}
	return nil
}

func send(t testing.TB, p *Port, pool *pkt.Pool, frame []byte) {
	t.Helper()
	b := pool.Get()
	b.SetBytes(frame)
	if p.TxBurst(0, []*pkt.Buf{b}) != 1 {
		t.Fatal("TxBurst refused a packet")
	}
}

// TestTunEcho configures IPv4 and IPv6 addresses on a tun interface,
// sends echo requests to them and expects the kernel's replies.
func TestTunEcho(t *testing.T) {
	pool := pkt.NewPool("tap", 256, pkt.DefaultSize)
	p, ns := openIn(t, Config{Mode: ModeTUN, MTU: 1400, Up: true, Addresses: []netip.Prefix{hostV4, hostV6}}, pool)
	if p.LinkType() != pkt.LinkRawIP || p.MAC() != [6]byte{} || p.MTU() != 1400 {
		t.Fatalf("link %v mac %x mtu %d", p.LinkType(), p.MAC(), p.MTU())
	}
	out := netnstest.IP(t, ns, "addr", "show", "dev", p.Interface())
	for _, want := range []string{"mtu 1400", "UP", hostV4.String(), hostV6.String()} {
		if !strings.Contains(out, want) {
			t.Fatalf("interface lacks %q:\n%s", want, out)
		}
	}
	payload := []byte("fastipsec host path")
	for i, pair := range [][2]netip.Addr{{routerV4, hostV4.Addr()}, {routerV6, hostV6.Addr()}} {
		src, dst := pair[0], pair[1]
		send(t, p, pool, echoRequest(src, dst, 0x4242, uint16(i), payload))
		if rxUntil(p, 2*time.Second, func(ip []byte) bool {
			return isEchoReply(ip, dst, src, 0x4242, uint16(i), payload)
		}) == nil {
			t.Fatalf("no echo reply from %s", dst)
		}
	}
	st := p.Stats()
	if st.TxPackets != 2 || st.RxPackets < 2 || st.TxErrors+st.RxErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTapEcho checks the Ethernet mode end to end: the kernel resolves
// the router's address with ARP through the port, the test answers, and
// the echo reply comes back addressed to the port's MAC.
func TestTapEcho(t *testing.T) {
	pool := pkt.NewPool("tap", 256, pkt.DefaultSize)
	p, _ := openIn(t, Config{Up: true, Addresses: []netip.Prefix{hostV4}}, pool)
	if p.LinkType() != pkt.LinkEthernet || p.MAC() != DeriveMAC(p.Name()) || p.HostMAC() == [6]byte{} || p.MAC() == p.HostMAC() {
		t.Fatalf("link %v mac %x host mac %x", p.LinkType(), p.MAC(), p.HostMAC())
	}
	mac, host := p.MAC(), p.HostMAC()
	eth := func(dst, src [6]byte, typ uint16, body []byte) []byte {
		f := append(append(dst[:], src[:]...), byte(typ>>8), byte(typ))
		return append(f, body...)
	}
	payload := []byte("tap echo")
	send(t, p, pool, eth(host, mac, unix.ETH_P_IP, echoRequest(routerV4, hostV4.Addr(), 7, 1, payload)))

	// The kernel asks who has the router's address.
	r4, h4 := routerV4.As4(), hostV4.Addr().As4()
	arp := rxUntil(p, 2*time.Second, func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_ARP &&
			binary.BigEndian.Uint16(f[20:]) == 1 && bytes.Equal(f[38:42], r4[:])
	})
	if arp == nil {
		t.Fatal("no ARP request for the router's address")
	}
	if !bytes.Equal(arp[6:12], host[:]) {
		t.Fatalf("ARP request from %x, want host MAC %x", arp[6:12], host)
	}
	reply := []byte{0, 1, 8, 0, 6, 4, 0, 2}
	reply = append(append(append(append(reply, mac[:]...), r4[:]...), host[:]...), h4[:]...)
	send(t, p, pool, eth(host, mac, unix.ETH_P_ARP, reply))

	f := rxUntil(p, 2*time.Second, func(f []byte) bool {
		return len(f) > 14 && binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP &&
			isEchoReply(f[14:], hostV4.Addr(), routerV4, 7, 1, payload)
	})
	if f == nil {
		t.Fatal("no echo reply")
	}
	if !bytes.Equal(f[0:6], mac[:]) || !bytes.Equal(f[6:12], host[:]) {
		t.Fatalf("echo reply %x -> %x, want %x -> %x", f[6:12], f[0:6], host, mac)
	}
}

// TestConcurrentTx sends from several goroutines at once (run with -race).
func TestConcurrentTx(t *testing.T) {
	pool := pkt.NewPool("tap", 1024, pkt.DefaultSize)
	p, _ := openIn(t, Config{Mode: ModeTUN, Up: true, Addresses: []netip.Prefix{hostV4}}, pool)
	// Not local and not forwarded: the kernel drops these after accepting them.
	pkt4 := echoRequest(routerV4, netip.MustParseAddr("198.51.100.9"), 1, 1, make([]byte, 64))
	const workers, bursts, burst = 4, 50, 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := pool.NewCache()
			defer c.Flush()
			bufs := make([]*pkt.Buf, burst)
			for range bursts {
				n := c.GetBulk(bufs)
				for _, b := range bufs[:n] {
					b.SetBytes(pkt4)
				}
				m := p.TxBurst(0, bufs[:n])
				c.PutBulk(bufs[m:n])
			}
		})
	}
	wg.Wait()
	if st := p.Stats(); st.TxPackets != workers*bursts*burst || st.TxErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTxErrors checks that a packet the kernel refuses (not IP, in tun
// mode) is taken, freed and counted.
func TestTxErrors(t *testing.T) {
	pool := pkt.NewPool("tap", 64, pkt.DefaultSize)
	p, _ := openIn(t, Config{Mode: ModeTUN, Up: true}, pool)
	avail := pool.Available()
	b := pool.Get()
	b.SetBytes([]byte{0x10, 1, 2, 3})
	if p.TxBurst(0, []*pkt.Buf{b}) != 1 {
		t.Fatal("refused packet not taken")
	}
	p.Close()
	if st := p.Stats(); st.TxErrors != 1 || st.TxPackets != 0 {
		t.Fatalf("stats %+v", st)
	}
	if pool.Available() != avail {
		t.Fatalf("pool has %d buffers, want %d", pool.Available(), avail)
	}
}

// TestOpenErrors checks configuration errors and name collisions.
func TestOpenErrors(t *testing.T) {
	pool := pkt.NewPool("tap", 64, pkt.DefaultSize)
	p, ns := openIn(t, Config{Mode: ModeTUN}, pool)
	for _, tc := range []struct {
		name string
		cfg  Config
		pool *pkt.Pool
	}{
		{"name in use by a tun", Config{Name: p.Interface(), Mode: ModeTAP}, pool},
		{"name too long", Config{Name: "abcdefghijklmnop"}, pool},
		{"bad mode", Config{Name: "x", Mode: "tin"}, pool},
		{"pool too small", Config{Name: "x", MTU: 9000}, pool},
	} {
		netnstest.Do(t, ns, func() error {
			if q, err := Open(tc.cfg, tc.pool); err == nil {
				q.Close()
				return fmt.Errorf("%s: Open succeeded", tc.name)
			}
			return nil
		})
	}
}

// echoBurst sends n echo requests and receives n replies; it reports how
// many came back.
func echoBurst(p *Port, c *pkt.Cache, req []byte, bufs []*pkt.Buf) int {
	n := c.GetBulk(bufs)
	for _, b := range bufs[:n] {
		b.SetBytes(req)
	}
	sent := p.TxBurst(0, bufs[:n])
	c.PutBulk(bufs[sent:n])
	got := 0
	for spins := 0; got < sent && spins < 100_000; spins++ {
		m := p.RxBurst(0, bufs)
		got += m
		c.PutBulk(bufs[:m])
	}
	return got
}

// TestZeroAllocs proves RxBurst and TxBurst allocate nothing per burst.
func TestZeroAllocs(t *testing.T) {
	pool := pkt.NewPool("tap", 512, pkt.DefaultSize)
	p, _ := openIn(t, Config{Mode: ModeTUN, Up: true, Addresses: []netip.Prefix{hostV4}}, pool)
	c := pool.NewCache()
	defer c.Flush()
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	req := echoRequest(routerV4, hostV4.Addr(), 1, 1, make([]byte, 56))
	for range 20 {
		echoBurst(p, c, req, bufs)
	}
	if a := testing.AllocsPerRun(100, func() { echoBurst(p, c, req, bufs) }); a != 0 {
		t.Fatalf("%.1f allocations per burst", a)
	}
	if a := testing.AllocsPerRun(100, func() { p.Wait(0, 0) }); a != 0 {
		t.Fatalf("Wait: %.1f allocations", a)
	}
}

// BenchmarkTunEcho sends bursts of 32 ICMP echo requests into a tun
// device and receives the kernel's replies; one op is one request.
func BenchmarkTunEcho(b *testing.B) {
	pool := pkt.NewPool("tap", 512, pkt.DefaultSize)
	p, _ := openIn(b, Config{Mode: ModeTUN, Up: true, Addresses: []netip.Prefix{hostV4}}, pool)
	c := pool.NewCache()
	defer c.Flush()
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	req := echoRequest(routerV4, hostV4.Addr(), 1, 1, make([]byte, 56))
	b.ReportAllocs()
	b.ResetTimer()
	got := 0
	for got < b.N {
		got += echoBurst(p, c, req, bufs)
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds()/1e6, "Mpps")
}

// BenchmarkTunTx writes bursts of 32 packets the kernel drops (not local,
// not forwarded): the cost of TxBurst alone.
func BenchmarkTunTx(b *testing.B) {
	pool := pkt.NewPool("tap", 512, pkt.DefaultSize)
	p, _ := openIn(b, Config{Mode: ModeTUN, Up: true, Addresses: []netip.Prefix{hostV4}}, pool)
	c := pool.NewCache()
	defer c.Flush()
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	req := echoRequest(routerV4, netip.MustParseAddr("198.51.100.9"), 1, 1, make([]byte, 56))
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := c.GetBulk(bufs)
		for _, x := range bufs[:n] {
			x.SetBytes(req)
		}
		m := p.TxBurst(0, bufs[:n])
		c.PutBulk(bufs[m:n])
		sent += m
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
}
