package ring

import (
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

func TestQueueWrap(t *testing.T) {
	q := newQueue(4)
	bufs := make([]*pkt.Buf, 3)
	for i := range bufs {
		bufs[i] = &pkt.Buf{}
	}
	out := make([]*pkt.Buf, 4)
	for round := range 10 { // indices wrap the 4 slots many times
		if n := q.enqueue(bufs); n != 3 {
			t.Fatalf("round %d: enqueue = %d", round, n)
		}
		if n := q.dequeue(out); n != 3 || out[0] != bufs[0] || out[2] != bufs[2] {
			t.Fatalf("round %d: dequeue = %d", round, n)
		}
	}
	if q.len() != 0 {
		t.Fatalf("len %d", q.len())
	}
}

// mutexQueue is the alternative design, kept for the benchmark below.
type mutexQueue struct {
	mu         sync.Mutex
	head, tail uint64
	mask       uint64
	slots      []*pkt.Buf
}

func (q *mutexQueue) enqueue(bufs []*pkt.Buf) int {
	q.mu.Lock()
	n := min(uint64(len(bufs)), q.mask+1-(q.head-q.tail))
	for i, b := range bufs[:n] {
		q.slots[(q.head+uint64(i))&q.mask] = b
	}
	q.head += n
	q.mu.Unlock()
	return int(n)
}

func (q *mutexQueue) dequeue(dst []*pkt.Buf) int {
	q.mu.Lock()
	n := min(uint64(len(dst)), q.head-q.tail)
	for i := range dst[:n] {
		s := &q.slots[(q.tail+uint64(i))&q.mask]
		dst[i], *s = *s, nil
	}
	q.tail += n
	q.mu.Unlock()
	return int(n)
}

// BenchmarkQueue compares the lock-free ring with a mutex per burst, on
// one goroutine (the uncontended cost of a burst of 32 in and out).
func BenchmarkQueue(b *testing.B) {
	bufs := make([]*pkt.Buf, pkt.BurstSize)
	for i := range bufs {
		bufs[i] = &pkt.Buf{}
	}
	out := make([]*pkt.Buf, pkt.BurstSize)
	run := func(b *testing.B, enq, deq func([]*pkt.Buf) int) {
		pkts := 0
		for b.Loop() {
			enq(bufs)
			pkts += deq(out)
		}
		b.ReportMetric(float64(pkts)/b.Elapsed().Seconds()/1e6, "Mpps")
	}
	b.Run("lockfree", func(b *testing.B) {
		q := newQueue(1024)
		run(b, q.enqueue, q.dequeue)
	})
	b.Run("mutex", func(b *testing.B) {
		q := &mutexQueue{mask: 1023, slots: make([]*pkt.Buf, 1024)}
		run(b, q.enqueue, q.dequeue)
	})
}

// FuzzQueue drives a small queue with a sequence of enqueue and dequeue
// sizes and checks it against a slice model: FIFO order, exact counts.
func FuzzQueue(f *testing.F) {
	f.Add([]byte{3, 0x82, 5, 0x81, 0x90, 7, 7, 0x8f})
	f.Fuzz(func(t *testing.T, ops []byte) {
		q := newQueue(8)
		pool := make([]pkt.Buf, 64)
		var model []*pkt.Buf
		next := 0
		out := make([]*pkt.Buf, 16)
		for _, op := range ops {
			k := int(op & 0x0f)
			if op&0x80 == 0 { // enqueue k
				in := make([]*pkt.Buf, k)
				for i := range in {
					in[i] = &pool[next%len(pool)]
					next++
				}
				n := q.enqueue(in)
				if want := min(k, 8-len(model)); n != want {
					t.Fatalf("enqueue %d with %d queued = %d, want %d", k, len(model), n, want)
				}
				model = append(model, in[:n]...)
				next -= k - n
			} else { // dequeue k
				n := q.dequeue(out[:k])
				if want := min(k, len(model)); n != want {
					t.Fatalf("dequeue %d with %d queued = %d, want %d", k, len(model), n, want)
				}
				for i := range n {
					if out[i] != model[i] {
						t.Fatalf("dequeued out of order at %d", i)
					}
				}
				model = model[n:]
			}
			if q.len() != len(model) {
				t.Fatalf("len %d, model %d", q.len(), len(model))
			}
		}
	})
}
