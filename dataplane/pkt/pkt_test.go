package pkt

import (
	"bytes"
	"sync"
	"testing"
)

func TestBufRoom(t *testing.T) {
	p := NewPool("t", 4, 0)
	b := p.Get()
	if b.Headroom() != Headroom || b.Len() != 0 || b.Tailroom() != DefaultSize-Headroom {
		t.Fatalf("fresh buf: headroom %d len %d tailroom %d", b.Headroom(), b.Len(), b.Tailroom())
	}
	copy(b.Append(4), "data")
	copy(b.Prepend(3), "hdr")
	copy(b.Append(3), "icv")
	if got := string(b.Bytes()); got != "hdrdataicv" {
		t.Fatalf("got %q", got)
	}
	if b.Prepend(b.Headroom()+1) != nil || b.Append(b.Tailroom()+1) != nil {
		t.Fatal("grew past the buffer")
	}
	if !b.TrimFront(3) || !b.TrimBack(3) || string(b.Bytes()) != "data" {
		t.Fatalf("trim: %q", b.Bytes())
	}
	if b.TrimFront(5) || b.TrimBack(5) || b.SetLen(-1) || b.SetLen(DefaultSize) {
		t.Fatal("out-of-range trims must fail and change nothing")
	}
	if !b.Move(10) || b.Headroom() != 10 || string(b.Bytes()) != "data" {
		t.Fatal("move")
	}
	// Bytes must not let a caller write past the packet by appending.
	if cap(b.Bytes()) != b.Len() {
		t.Fatal("Bytes leaks capacity")
	}
	b.Meta.Flags = FlagDecapsulated
	b.Meta.AddStep(Step{Proto: 50, SPI: 1})
	b.Free()
	c := p.Get()
	if c.Meta.Flags != 0 || c.Meta.HistoryLen != 0 || c.Len() != 0 {
		t.Fatal("Get returned a dirty buffer")
	}
}

func TestHistoryBounded(t *testing.T) {
	var m Meta
	for i := range MaxHistory {
		if !m.AddStep(Step{SPI: uint32(i)}) {
			t.Fatal("history full too early")
		}
	}
	if m.AddStep(Step{}) || len(m.Steps()) != MaxHistory || m.Steps()[3].SPI != 3 {
		t.Fatal("history not bounded")
	}
}

func TestCacheRecyclesWithoutLoss(t *testing.T) {
	p := NewPool("t", 1000, 0)
	c := p.NewCache()
	got := make([]*Buf, 1000)
	if n := c.GetBulk(got); n != 1000 {
		t.Fatalf("got %d of 1000", n)
	}
	if c.Get() != nil || p.Empties() == 0 {
		t.Fatal("empty pool must return nil and count it")
	}
	seen := map[*Buf]bool{}
	for _, b := range got {
		if seen[b] {
			t.Fatal("buffer handed out twice")
		}
		seen[b] = true
	}
	c.PutBulk(got)
	c.Flush()
	if p.Available() != 1000 {
		t.Fatalf("%d of 1000 back", p.Available())
	}
}

func TestForeignBuffersGoHome(t *testing.T) {
	a, b := NewPool("a", 300, 0), NewPool("b", 10, 0)
	ca, cb := a.NewCache(), b.NewCache()
	bufs := make([]*Buf, 300)
	ca.GetBulk(bufs)
	cb.PutBulk(bufs) // core b frees core a's buffers
	cb.Flush()
	ca.Flush()
	if a.Available() != 300 || b.Available() != 10 {
		t.Fatalf("a %d/300, b %d/10", a.Available(), b.Available())
	}
}

func TestConcurrentCaches(t *testing.T) {
	p := NewPool("t", 512, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := p.NewCache()
			bufs := make([]*Buf, 32)
			for range 2000 {
				n := c.GetBulk(bufs)
				for _, b := range bufs[:n] {
					b.Append(1)[0] = 1
				}
				c.PutBulk(bufs[:n])
			}
			c.Flush()
		}()
	}
	wg.Wait()
	if p.Available() != 512 {
		t.Fatalf("%d of 512 back", p.Available())
	}
}

type owner struct{ released []*Buf }

func (o *owner) Release(b *Buf) { o.released = append(o.released, b) }

func TestWrapForeignMemory(t *testing.T) {
	mem := make([]byte, 512)
	o := &owner{}
	b := Wrap(mem, 128, 4, 0xdead, o)
	copy(b.Bytes(), "mbuf")
	if b.Handle != 0xdead || b.Headroom() != 128 || !bytes.Equal(mem[128:132], []byte("mbuf")) {
		t.Fatal("wrap does not alias the memory")
	}
	p := NewPool("t", 1, 0)
	p.NewCache().Put(b)
	if len(o.released) != 1 {
		t.Fatal("wrapped buffer not released to its owner")
	}
}

func TestCacheAllocatesNothing(t *testing.T) {
	p := NewPool("t", 4096, 0)
	c := p.NewCache()
	bufs := make([]*Buf, 32)
	allocs := testing.AllocsPerRun(1000, func() {
		n := c.GetBulk(bufs)
		c.PutBulk(bufs[:n])
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per burst", allocs)
	}
}

func BenchmarkCacheBurst(b *testing.B) {
	p := NewPool("t", 4096, 0)
	c := p.NewCache()
	bufs := make([]*Buf, 32)
	b.ReportAllocs()
	for b.Loop() {
		n := c.GetBulk(bufs)
		c.PutBulk(bufs[:n])
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds()/1e6, "Mbufs/s")
}
