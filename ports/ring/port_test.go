package ring_test

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// fill takes n Bufs from c, each holding one byte i.
func fill(t testing.TB, c *pkt.Cache, n int) []*pkt.Buf {
	t.Helper()
	bufs := make([]*pkt.Buf, n)
	for i := range bufs {
		b := c.Get()
		if b == nil {
			t.Fatalf("pool empty after %d", i)
		}
		b.SetBytes([]byte{byte(i), 0xee})
		bufs[i] = b
	}
	return bufs
}

func TestPairMovesPointers(t *testing.T) {
	pool := pkt.NewPool("t", 64, 0)
	c := pool.NewCache()
	a, b := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b"})
	if a.Peer() != b || b.Peer() != a {
		t.Fatal("peers not wired")
	}
	in := fill(t, c, 5)
	if n := a.TxBurst(0, in); n != 5 {
		t.Fatalf("TxBurst = %d, want 5", n)
	}
	if n := a.RxBurst(0, make([]*pkt.Buf, 8)); n != 0 {
		t.Fatalf("a received its own frames: %d", n)
	}
	out := make([]*pkt.Buf, 8)
	if n := b.RxBurst(0, out); n != 5 {
		t.Fatalf("RxBurst = %d, want 5", n)
	}
	for i := range 5 {
		if out[i] != in[i] {
			t.Fatalf("buf %d: got another pointer", i)
		}
		if out[i].Bytes()[0] != byte(i) {
			t.Fatalf("buf %d out of order", i)
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.TxPackets != 5 || sa.TxBytes != 10 || sb.RxPackets != 5 || sb.RxBytes != 10 {
		t.Fatalf("stats a=%+v b=%+v", sa, sb)
	}
}

func TestLoopback(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	c := pool.NewCache()
	lo := ring.New(ring.Config{Name: "lo"})
	in := fill(t, c, 3)
	lo.TxBurst(0, in)
	out := make([]*pkt.Buf, 4)
	if n := lo.RxBurst(0, out); n != 3 || out[0] != in[0] {
		t.Fatalf("loopback RxBurst = %d", n)
	}
}

func TestQueueMapping(t *testing.T) {
	pool := pkt.NewPool("t", 8, 0)
	c := pool.NewCache()
	a, b := ring.NewPair(ring.Config{Name: "a", Queues: 4}, ring.Config{Name: "b", Queues: 2})
	if a.TxQueues() != 4 || b.RxQueues() != 2 {
		t.Fatalf("queues a=%d b=%d", a.TxQueues(), b.RxQueues())
	}
	a.TxBurst(3, fill(t, c, 1))
	a.TxBurst(2, fill(t, c, 2))
	if b.Queued(0) != 2 || b.Queued(1) != 1 {
		t.Fatalf("queued q0=%d q1=%d, want 2 1", b.Queued(0), b.Queued(1))
	}
	out := make([]*pkt.Buf, 4)
	if n := b.RxBurst(1, out); n != 1 || out[0].Meta.RxQueue != 1 {
		t.Fatalf("RxBurst(1) = %d, RxQueue %d", n, out[0].Meta.RxQueue)
	}
}

func TestFull(t *testing.T) {
	pool := pkt.NewPool("t", 16, 0)
	c := pool.NewCache()
	a, b := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b", Size: 3})
	in := fill(t, c, 6)
	if n := a.TxBurst(0, in); n != 4 { // Size 3 rounds up to 4
		t.Fatalf("TxBurst into full ring = %d, want 4", n)
	}
	if n := a.TxBurst(0, in[4:]); n != 0 {
		t.Fatalf("TxBurst into full ring = %d, want 0", n)
	}
	if s := a.Stats(); s.TxPackets != 4 || s.TxFull != 4 {
		t.Fatalf("stats %+v", s)
	}
	out := make([]*pkt.Buf, 1)
	b.RxBurst(0, out)
	if n := a.TxBurst(0, in[4:]); n != 1 {
		t.Fatalf("TxBurst after one slot freed = %d, want 1", n)
	}
}

func TestMetaReset(t *testing.T) {
	pool := pkt.NewPool("t", 4, 0)
	c := pool.NewCache()
	lo := ring.New(ring.Config{Name: "lo"})
	in := fill(t, c, 1)
	in[0].Meta.Flags = pkt.FlagEncapsulated
	in[0].Meta.Cookie = 7
	in[0].Meta.AddStep(pkt.Step{Proto: 50})
	in[0].Meta.RxTime = 1234
	lo.TxBurst(0, in)
	out := make([]*pkt.Buf, 1)
	lo.RxBurst(0, out)
	m := out[0].Meta
	if m.Flags != 0 || m.Cookie != 0 || m.HistoryLen != 0 || m.RxTime != 1234 {
		t.Fatalf("meta after rx: %+v", m)
	}
}

func TestDefaultsAndMAC(t *testing.T) {
	p := ring.New(ring.Config{Name: "lan0"})
	if p.MTU() != 1500 || p.RxQueues() != 1 || p.TxQueues() != 1 || p.LinkType() != pkt.LinkEthernet {
		t.Fatalf("defaults: mtu %d queues %d/%d link %v", p.MTU(), p.RxQueues(), p.TxQueues(), p.LinkType())
	}
	mac := p.MAC()
	if mac[0] != 0x02 || mac != ring.DeriveMAC("lan0") || mac == ring.DeriveMAC("lan1") {
		t.Fatalf("derived MAC %x", mac)
	}
	set := [6]byte{0, 1, 2, 3, 4, 5}
	if m := ring.New(ring.Config{Name: "x", MAC: set}).MAC(); m != set {
		t.Fatalf("configured MAC lost: %x", m)
	}
	if m := ring.New(ring.Config{Name: "tun", LinkType: pkt.LinkRawIP}).MAC(); m != [6]byte{} {
		t.Fatalf("raw port has MAC %x", m)
	}
}

func TestCloseFreesQueued(t *testing.T) {
	pool := pkt.NewPool("t", 16, 0)
	a, b := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b"})
	bufs := make([]*pkt.Buf, 10)
	for i := range bufs {
		bufs[i] = pool.Get()
	}
	a.TxBurst(0, bufs)
	b.Close()
	if got := pool.Available(); got != 16 {
		t.Fatalf("after Close %d of 16 Bufs back", got)
	}
	// Sending to a closed port frees the frames.
	bufs[0] = pool.Get()
	if n := a.TxBurst(0, bufs[:1]); n != 1 || pool.Available() != 16 || a.Stats().TxErrors != 1 {
		t.Fatalf("TxBurst to closed peer: n=%d available=%d", n, pool.Available())
	}
}

func TestZeroAllocs(t *testing.T) {
	pool := pkt.NewPool("t", 64, 0)
	c := pool.NewCache()
	a, b := ring.NewPair(ring.Config{Name: "a"}, ring.Config{Name: "b"})
	in := fill(t, c, pkt.BurstSize)
	out := make([]*pkt.Buf, pkt.BurstSize)
	allocs := testing.AllocsPerRun(1000, func() {
		a.TxBurst(0, in)
		b.RxBurst(0, out)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per burst, want 0", allocs)
	}
}
