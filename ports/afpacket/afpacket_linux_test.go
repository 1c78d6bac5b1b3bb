package afpacket

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/internal/netnstest"
)

// testEtherType is IEEE's local experimental EtherType; test frames carry
// it so that stray kernel frames are told apart.
const testEtherType = 0x88b5

var (
	dstMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01} // not the port's MAC: needs promiscuous delivery
	srcMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

// frame builds an Ethernet frame of size bytes carrying tag and seq.
func frame(size int, tag byte, seq uint32) []byte {
	f := make([]byte, size)
	copy(f[0:], dstMAC[:])
	copy(f[6:], srcMAC[:])
	binary.BigEndian.PutUint16(f[12:], testEtherType)
	f[14] = tag
	binary.BigEndian.PutUint32(f[15:], seq)
	for i := 19; i < size; i++ {
		f[i] = byte(i*7) ^ byte(seq)
	}
	return f
}

// testFrame returns tag and seq if f is a test frame (untagged).
func testFrame(f []byte) (tag byte, seq uint32, ok bool) {
	if len(f) < 19 || binary.BigEndian.Uint16(f[12:]) != testEtherType {
		return 0, 0, false
	}
	return f[14], binary.BigEndian.Uint32(f[15:]), true
}

// env is a namespace with a veth pair a<->b.
type env struct {
	ns, a, b string
}

func newEnv(t *testing.T) env {
	netnstest.RequireRoot(t)
	ns := netnstest.NewNS(t, "afp")
	a, b := netnstest.Veth(t, ns)
	return env{ns, a, b}
}

// open opens a port inside the namespace.
func (e env) open(t testing.TB, cfg Config, pool *pkt.Pool) *Port {
	t.Helper()
	var p *Port
	netnstest.Do(t, e.ns, func() (err error) {
		p, err = Open(cfg, pool)
		return err
	})
	t.Cleanup(func() { p.Close() })
	return p
}

// rawSocket opens a plain AF_PACKET socket on ifname inside the namespace.
func (e env) rawSocket(t testing.TB, ifname string) int {
	t.Helper()
	fd := -1
	netnstest.Do(t, e.ns, func() error {
		s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		fd = s
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
			return err
		}
		var ifr ifreq
		copy(ifr.name[:], ifname)
		if err := ioctl(s, unix.SIOCGIFINDEX, &ifr); err != nil {
			return err
		}
		idx := int(binary.NativeEndian.Uint32(ifr.data[:]))
		return unix.Bind(s, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: idx})
	})
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// recvTest reads test frames from fd until want have arrived or timeout.
func recvTest(t testing.TB, fd, want int, timeout time.Duration) map[uint32][]byte {
	t.Helper()
	got := map[uint32][]byte{}
	buf := make([]byte, 1<<16)
	deadline := time.Now().Add(timeout)
	for len(got) < want && time.Now().Before(deadline) {
		if !pollIn(fd, 20*time.Millisecond) {
			continue
		}
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		if _, seq, ok := testFrame(buf[:n]); ok {
			got[seq] = bytes.Clone(buf[:n])
		}
	}
	return got
}

// rxAll drains the port's queues until want frames matching keep have
// arrived or timeout passes; it returns them by queue.
func rxAll(p *Port, want int, timeout time.Duration, keep func([]byte) bool) [][][]byte {
	got := make([][][]byte, p.RxQueues())
	total := 0
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	deadline := time.Now().Add(timeout)
	for total < want && time.Now().Before(deadline) {
		idle := true
		for q := range got {
			n := p.RxBurst(q, bufs)
			for _, b := range bufs[:n] {
				if keep(b.Bytes()) {
					got[q] = append(got[q], bytes.Clone(b.Bytes()))
					total++
				}
				b.Free()
			}
			idle = idle && n == 0
		}
		if idle {
			p.Wait(0, 5*time.Millisecond)
		}
	}
	return got
}

func isTest(f []byte) bool { _, _, ok := testFrame(f); return ok }

func smallCfg(ifname string) Config {
	return Config{Interface: ifname, BlockSize: 128 << 10, NumBlocks: 4, TxFrames: 64}
}

// TestRxTx sends frames of many sizes through the veth in both directions
// and checks every byte, that the port does not receive its own
// transmissions, and the counters.
func TestRxTx(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 1024, pkt.DefaultSize)
	p := e.open(t, smallCfg(e.a), pool)
	if p.Name() != e.a || p.MTU() != 1500 || p.RxQueues() != 1 || p.TxQueues() != 1 || p.LinkType() != pkt.LinkEthernet {
		t.Fatalf("port %s mtu %d queues %d/%d link %v", p.Name(), p.MTU(), p.RxQueues(), p.TxQueues(), p.LinkType())
	}
	peer := e.rawSocket(t, e.b)

	const count = 200
	sizes := func(i int) int { return 60 + i*7%(1514-60+1) }
	want := map[uint32][]byte{}
	for i := range count {
		f := frame(sizes(i), 'R', uint32(i))
		want[uint32(i)] = f
		if err := unix.Send(peer, f, 0); err != nil {
			t.Fatalf("peer send: %v", err)
		}
	}
	got := rxAll(p, count, 3*time.Second, isTest)[0]
	if len(got) != count {
		t.Fatalf("port received %d of %d frames", len(got), count)
	}
	for i, f := range got {
		if _, seq, _ := testFrame(f); seq != uint32(i) || !bytes.Equal(f, want[seq]) {
			t.Fatalf("rx frame %d (seq %d, %d B) differs from the one sent", i, seq, len(f))
		}
	}

	// Transmit from the port; frames must arrive at the peer unchanged.
	cache := pool.NewCache()
	defer cache.Flush()
	sent := 0
	deadline := time.Now().Add(3 * time.Second)
	bufs := make([]*pkt.Buf, 0, pkt.BurstSize)
	for sent < count && time.Now().Before(deadline) {
		for len(bufs) < cap(bufs) && sent+len(bufs) < count {
			b := cache.Get()
			b.SetBytes(frame(sizes(sent+len(bufs)), 'T', uint32(sent+len(bufs))))
			bufs = append(bufs, b)
		}
		n := p.TxBurst(0, bufs)
		sent += n
		bufs = append(bufs[:0], bufs[n:]...)
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	cache.PutBulk(bufs)
	if sent != count {
		t.Fatalf("port accepted %d of %d frames", sent, count)
	}
	rcv := recvTest(t, peer, count, 3*time.Second)
	if len(rcv) != count {
		t.Fatalf("peer received %d of %d frames", len(rcv), count)
	}
	for seq, f := range rcv {
		if !bytes.Equal(f, frame(sizes(int(seq)), 'T', seq)) {
			t.Fatalf("tx frame seq %d differs", seq)
		}
	}
	// The port must not have received its own transmissions.
	if own := rxAll(p, 1, 100*time.Millisecond, isTest)[0]; len(own) != 0 {
		t.Fatalf("port received %d of its own frames", len(own))
	}
	st := p.Stats()
	if st.RxPackets < count || st.TxPackets != count || st.TxErrors != 0 || st.RxErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestIgnoresHostOutgoing checks that frames the host sends on the
// interface are not received, with and without fanout.
func TestIgnoresHostOutgoing(t *testing.T) {
	for _, queues := range []int{1, 2} {
		t.Run(fmt.Sprint("queues", queues), func(t *testing.T) {
			e := newEnv(t)
			pool := pkt.NewPool("afp", 512, pkt.DefaultSize)
			cfg := smallCfg(e.a)
			cfg.Queues = queues
			p := e.open(t, cfg, pool)
			host := e.rawSocket(t, e.a) // a host program sending on the port's interface
			peer := e.rawSocket(t, e.b)
			for i := range 10 {
				if err := unix.Send(host, frame(100, 'H', uint32(i)), 0); err != nil {
					t.Fatal(err)
				}
			}
			if got := recvTest(t, peer, 10, 2*time.Second); len(got) != 10 {
				t.Fatalf("peer received %d of 10 host frames", len(got))
			}
			total := 0
			for _, q := range rxAll(p, 1, 100*time.Millisecond, isTest) {
				total += len(q)
			}
			if total != 0 {
				t.Fatalf("port received %d frames the host sent", total)
			}
		})
	}
}

// TestVLAN sends 802.1Q and 802.1ad tagged frames, which the kernel
// strips into metadata, and checks that the port restores the tags; and
// that a tagged frame of MTU+18 bytes is transmitted.
func TestVLAN(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 256, pkt.DefaultSize)
	p := e.open(t, smallCfg(e.a), pool)
	peer := e.rawSocket(t, e.b)

	tagged := func(tpid uint16, tci uint16, size int, seq uint32) []byte {
		in := frame(size-4, 'V', seq)
		f := make([]byte, 0, size)
		f = append(f, in[:12]...)
		f = binary.BigEndian.AppendUint16(f, tpid)
		f = binary.BigEndian.AppendUint16(f, tci)
		return append(f, in[12:]...)
	}
	want := [][]byte{
		tagged(unix.ETH_P_8021Q, 0x2064, 200, 1),
		tagged(unix.ETH_P_8021AD, 0x0fff, 300, 2),
		tagged(unix.ETH_P_8021Q, 0x0000, 64, 3), // priority tag
	}
	for _, f := range want {
		if err := unix.Send(peer, f, 0); err != nil {
			t.Fatal(err)
		}
	}
	isTagged := func(f []byte) bool {
		return len(f) > 18 && binary.BigEndian.Uint16(f[16:]) == testEtherType
	}
	got := rxAll(p, len(want), 2*time.Second, isTagged)[0]
	if len(got) != len(want) {
		t.Fatalf("received %d of %d tagged frames", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("tagged frame %d:\n got % x\nwant % x", i, got[i][:20], want[i][:20])
		}
	}

	b := pool.Get()
	big := tagged(unix.ETH_P_8021Q, 0x0064, p.MTU()+18, 4)
	b.SetBytes(big)
	if n := p.TxBurst(0, []*pkt.Buf{b}); n != 1 {
		t.Fatal("tagged MTU-sized frame refused")
	}
	buf := make([]byte, 1<<16)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if !pollIn(peer, 20*time.Millisecond) {
			continue
		}
		// The peer's kernel strips the tag too; ask for it via PACKET_AUXDATA
		// would be more work: compare the untagged frame and size instead.
		n, _, err := unix.Recvfrom(peer, buf, unix.MSG_DONTWAIT)
		if err == nil && n == len(big)-4 && bytes.Equal(buf[:12], big[:12]) && bytes.Equal(buf[12:n], big[16:]) {
			return
		}
	}
	t.Fatal("tagged MTU-sized frame did not arrive")
}

// TestFanout checks that with two queues every flow is received exactly
// once and flows spread over both queues.
func TestFanout(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 512, pkt.DefaultSize)
	cfg := smallCfg(e.a)
	cfg.Queues = 2
	p := e.open(t, cfg, pool)
	if p.RxQueues() != 2 || p.TxQueues() != 2 {
		t.Fatalf("queues %d/%d", p.RxQueues(), p.TxQueues())
	}
	peer := e.rawSocket(t, e.b)
	const flows = 64
	for i := range flows {
		if err := unix.Send(peer, udpFrame(uint16(10000+i), 128), 0); err != nil {
			t.Fatal(err)
		}
	}
	isUDP := func(f []byte) bool {
		return len(f) > 42 && binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[23] == unix.IPPROTO_UDP
	}
	got := rxAll(p, flows, 3*time.Second, isUDP)
	seen := map[uint16]int{}
	for _, q := range got {
		for _, f := range q {
			seen[binary.BigEndian.Uint16(f[34:])]++
		}
	}
	if len(seen) != flows || len(got[0])+len(got[1]) != flows {
		t.Fatalf("received %d+%d frames of %d flows (%d distinct)", len(got[0]), len(got[1]), flows, len(seen))
	}
	if len(got[0]) == 0 || len(got[1]) == 0 {
		t.Fatalf("fanout did not spread: %d / %d", len(got[0]), len(got[1]))
	}
	// Each tx queue sends.
	for q := range 2 {
		b := pool.Get()
		b.SetBytes(frame(100, 'F', uint32(q)))
		if p.TxBurst(q, []*pkt.Buf{b}) != 1 {
			t.Fatalf("tx queue %d refused", q)
		}
	}
	if rcv := recvTest(t, peer, 2, 2*time.Second); len(rcv) != 2 {
		t.Fatalf("peer received %d of 2 frames", len(rcv))
	}
}

// udpFrame is an IPv4/UDP frame from 192.0.2.2:sport to 198.51.100.1:9.
func udpFrame(sport uint16, size int) []byte {
	f := make([]byte, size)
	copy(f[0:], dstMAC[:])
	copy(f[6:], srcMAC[:])
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IP)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8] = 64
	ip[9] = unix.IPPROTO_UDP
	copy(ip[12:], []byte{192, 0, 2, 2})
	copy(ip[16:], []byte{198, 51, 100, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], 9)
	binary.BigEndian.PutUint16(udp[4:], uint16(size-34))
	return f
}

// TestTxFullAndErrors fills an 8-slot tx ring in one burst, and sends
// frames the kernel would refuse.
func TestTxFullAndErrors(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 256, pkt.DefaultSize)
	cfg := smallCfg(e.a)
	cfg.TxFrames = 8
	p := e.open(t, cfg, pool)
	bufs := make([]*pkt.Buf, 32)
	for i := range bufs {
		bufs[i] = pool.Get()
		bufs[i].SetBytes(frame(64, 'X', uint32(i)))
	}
	if n := p.TxBurst(0, bufs); n != 8 {
		t.Fatalf("full ring took %d frames, want 8", n)
	}
	for _, b := range bufs[8:] {
		b.Free()
	}
	if st := p.Stats(); st.TxPackets != 8 || st.TxFull != 24 {
		t.Fatalf("stats %+v", st)
	}
	// A frame longer than MTU+14 and a runt are taken, freed and counted.
	long, runt := pool.Get(), pool.Get()
	long.SetBytes(frame(p.MTU()+15, 'X', 99))
	runt.SetBytes(make([]byte, 10))
	time.Sleep(20 * time.Millisecond) // let the kernel free the ring
	if n := p.TxBurst(0, []*pkt.Buf{long, runt}); n != 2 {
		t.Fatalf("bad frames: took %d, want 2", n)
	}
	if st := p.Stats(); st.TxPackets != 8 || st.TxErrors != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPromisc checks the interface's promiscuity count follows the port.
func TestPromisc(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 64, pkt.DefaultSize)
	promiscuity := func() string {
		out := netnstest.IP(t, e.ns, "-d", "link", "show", e.a)
		i := strings.Index(out, "promiscuity ")
		if i < 0 {
			t.Fatalf("no promiscuity in %q", out)
		}
		return strings.Fields(out[i:])[1]
	}
	p := e.open(t, smallCfg(e.a), pool)
	if got := promiscuity(); got != "1" {
		t.Fatalf("promiscuity %s with port open, want 1", got)
	}
	p.Close()
	if got := promiscuity(); got != "0" {
		t.Fatalf("promiscuity %s after Close, want 0", got)
	}
	cfg := smallCfg(e.a)
	cfg.NoPromisc = true
	e.open(t, cfg, pool)
	if got := promiscuity(); got != "0" {
		t.Fatalf("promiscuity %s with NoPromisc, want 0", got)
	}
}

// TestOpenErrors checks configuration errors.
func TestOpenErrors(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 64, pkt.DefaultSize)
	small := pkt.NewPool("small", 64, pkt.Headroom+1024)
	for _, tc := range []struct {
		name string
		cfg  Config
		pool *pkt.Pool
	}{
		{"no such interface", Config{Interface: "nonexistent0"}, pool},
		{"MTU above interface", Config{Interface: e.a, MTU: 9000}, pool},
		{"block not page multiple", Config{Interface: e.a, BlockSize: 5000}, pool},
		{"pool buffers too small", Config{Interface: e.a}, small},
	} {
		netnstest.Do(t, e.ns, func() error {
			if p, err := Open(tc.cfg, tc.pool); err == nil {
				p.Close()
				return fmt.Errorf("%s: Open succeeded", tc.name)
			}
			return nil
		})
	}
}

// pair opens ports on both ends of the veth for steady-state tests.
func pair(t testing.TB, e env, pool *pkt.Pool) (a, b *Port) {
	cfg := smallCfg(e.a)
	cfg.Queues = 1
	a = e.open(t, cfg, pool)
	cfg.Interface = e.b
	b = e.open(t, cfg, pool)
	return a, b
}

// burstThrough sends one burst of n frames from tx to rx and receives
// them all; it reports how many arrived.
func burstThrough(tx, rx *Port, c *pkt.Cache, tmpl []byte, bufs []*pkt.Buf) int {
	n := c.GetBulk(bufs)
	for _, b := range bufs[:n] {
		b.SetBytes(tmpl)
	}
	sent := tx.TxBurst(0, bufs[:n])
	c.PutBulk(bufs[sent:n])
	got := 0
	for spins := 0; got < sent && spins < 1_000_000; spins++ {
		m := rx.RxBurst(0, bufs)
		got += m
		c.PutBulk(bufs[:m])
	}
	return got
}

// TestZeroAllocs proves RxBurst and TxBurst allocate nothing per burst in
// steady state.
func TestZeroAllocs(t *testing.T) {
	e := newEnv(t)
	pool := pkt.NewPool("afp", 1024, pkt.DefaultSize)
	a, b := pair(t, e, pool)
	c := pool.NewCache()
	defer c.Flush()
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	tmpl := frame(128, 'Z', 0)
	for range 100 {
		burstThrough(b, a, c, tmpl, bufs)
	}
	lost := 0
	allocs := testing.AllocsPerRun(200, func() {
		if burstThrough(b, a, c, tmpl, bufs) != len(bufs) {
			lost++
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per burst", allocs)
	}
	if lost > 0 {
		t.Logf("%d bursts were not fully received", lost)
	}
	if a := testing.AllocsPerRun(100, func() { a.Wait(0, 0) }); a != 0 {
		t.Fatalf("Wait: %.1f allocations", a)
	}
}

// BenchmarkVeth moves frames from one port to the other over the veth
// pair on one goroutine, keeping up to a window of frames in flight:
// TxBurst, kernel veth, RxBurst. One op is one frame.
func BenchmarkVeth(b *testing.B) {
	for _, size := range []int{64, 1514} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			netnstest.RequireRoot(b)
			ns := netnstest.NewNS(b, "afb")
			va, vb := netnstest.Veth(b, ns)
			e := env{ns, va, vb}
			pool := pkt.NewPool("afp", 8192, pkt.DefaultSize)
			cfg := Config{Interface: va, BlockSize: 256 << 10, NumBlocks: 16, TxFrames: 1024}
			rx := e.open(b, cfg, pool)
			cfg.Interface = vb
			tx := e.open(b, cfg, pool)
			c := pool.NewCache()
			defer c.Flush()
			bufs := make([]*pkt.Buf, pkt.BurstSize)
			tmpl := frame(size, 'B', 0)
			const window = 4096
			b.ReportAllocs()
			b.ResetTimer()
			sent, got, stuck := 0, 0, 0
			for got < b.N && stuck < 100 {
				if sent-got < window && sent < b.N {
					n := c.GetBulk(bufs[:min(len(bufs), b.N-sent)])
					for _, x := range bufs[:n] {
						x.SetBytes(tmpl)
					}
					m := tx.TxBurst(0, bufs[:n])
					c.PutBulk(bufs[m:n])
					sent += m
				}
				m := rx.RxBurst(0, bufs)
				c.PutBulk(bufs[:m])
				got += m
				if m == 0 && (sent-got >= window || sent == b.N) {
					if rx.Wait(0, 10*time.Millisecond) {
						stuck = 0
					} else {
						stuck++ // frames lost: give up after a second
					}
				}
			}
			b.ReportMetric(float64(got)/b.Elapsed().Seconds()/1e6, "Mpps")
			st := rx.Stats()
			b.ReportMetric(float64(st.RxErrors), "kdrops")
		})
	}
}

// BenchmarkTx transmits 64-byte frames through the tx ring to a veth
// peer nobody reads (the kernel drops them there); one op is one frame.
func BenchmarkTx(b *testing.B) {
	for _, bypass := range []bool{false, true} {
		b.Run(fmt.Sprint("qdiscbypass=", bypass), func(b *testing.B) {
			netnstest.RequireRoot(b)
			ns := netnstest.NewNS(b, "afx")
			va, vb := netnstest.Veth(b, ns)
			pool := pkt.NewPool("afp", 1024, pkt.DefaultSize)
			tx := env{ns, va, vb}.open(b, Config{Interface: va, BlockSize: 64 << 10, NumBlocks: 2, TxFrames: 256, QdiscBypass: bypass}, pool)
			c := pool.NewCache()
			defer c.Flush()
			bufs := make([]*pkt.Buf, pkt.BurstSize)
			tmpl := frame(64, 'B', 0)
			b.ReportAllocs()
			b.ResetTimer()
			for sent := 0; sent < b.N; {
				n := c.GetBulk(bufs)
				for _, x := range bufs[:n] {
					x.SetBytes(tmpl)
				}
				m := tx.TxBurst(0, bufs[:n])
				c.PutBulk(bufs[m:n])
				sent += m
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
			if st := tx.Stats(); st.TxErrors != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}
