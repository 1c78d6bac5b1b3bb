package ring_test

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// TestConcurrent runs producers on A's tx queues (two of them sharing one
// queue index, as cores do when a port has fewer tx queues than cores)
// into B's single rx queue, with one consumer. Every frame must arrive
// once, in order per producer.
func TestConcurrent(t *testing.T) {
	const producers, perProducer = 4, 20000
	pool := pkt.NewPool("t", 2048, 0)
	a, b := ring.NewPair(ring.Config{Name: "a", Queues: 3}, ring.Config{Name: "b", Size: 64})

	var wg sync.WaitGroup
	for id := range producers {
		wg.Go(func() {
			c := pool.NewCache()
			defer c.Flush()
			var burst [8]*pkt.Buf
			seq := 0
			for seq < perProducer {
				n := 0
				for n < len(burst) && seq+n < perProducer {
					bf := c.Get()
					if bf == nil {
						break
					}
					var p [8]byte
					binary.BigEndian.PutUint32(p[:], uint32(id))
					binary.BigEndian.PutUint32(p[4:], uint32(seq+n))
					bf.SetBytes(p[:])
					burst[n] = bf
					n++
				}
				sent := 0
				for sent < n {
					sent += a.TxBurst(id%3, burst[sent:n])
					if sent < n {
						runtime.Gosched()
					}
				}
				seq += n
			}
		})
	}

	done := make(chan struct{})
	var next [producers]uint32
	bad := 0
	go func() {
		defer close(done)
		c := pool.NewCache()
		defer c.Flush()
		out := make([]*pkt.Buf, 32)
		for got := 0; got < producers*perProducer; {
			n := b.RxBurst(0, out)
			if n == 0 {
				runtime.Gosched()
				continue
			}
			for _, bf := range out[:n] {
				p := bf.Bytes()
				id, seq := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
				if seq != next[id] && bad < 5 {
					bad++
					t.Errorf("producer %d: got seq %d, want %d", id, seq, next[id])
				}
				next[id] = seq + 1
			}
			c.PutBulk(out[:n])
			got += n
		}
	}()
	wg.Wait()
	<-done
	sa, sb := a.Stats(), b.Stats()
	if sa.TxPackets != producers*perProducer || sb.RxPackets != producers*perProducer {
		t.Fatalf("tx %d rx %d, want %d", sa.TxPackets, sb.RxPackets, producers*perProducer)
	}
	if b.Queued(0) != 0 {
		t.Fatalf("%d left queued", b.Queued(0))
	}
}
