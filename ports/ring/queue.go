package ring

import (
	"runtime"
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// queue is a bounded multi-producer single-consumer ring of Bufs.
//
// Indices grow without bound and are masked into slots. A producer
// reserves [head, head+n) by CAS on prodHead, fills the slots, waits for
// earlier producers to publish (prodTail == head), then publishes with
// prodTail = head+n. The consumer reads up to prodTail and frees slots by
// advancing consTail. All hand-offs go through atomics, so slot accesses
// are ordered (and the race detector agrees).
type queue struct {
	_        [64]byte
	prodHead atomic.Uint64
	_        [56]byte
	prodTail atomic.Uint64
	_        [56]byte
	consTail atomic.Uint64
	_        [56]byte
	mask     uint64
	slots    []*pkt.Buf
}

func newQueue(size int) *queue {
	return &queue{mask: uint64(size - 1), slots: make([]*pkt.Buf, size)}
}

// enqueue adds as many of bufs as fit and returns how many.
func (q *queue) enqueue(bufs []*pkt.Buf) int {
	size := q.mask + 1
	var head, n uint64
	for {
		head = q.prodHead.Load()
		free := size - (head - q.consTail.Load())
		n = min(uint64(len(bufs)), free)
		if n == 0 {
			return 0
		}
		if q.prodHead.CompareAndSwap(head, head+n) {
			break
		}
	}
	for i, b := range bufs[:n] {
		q.slots[(head+uint64(i))&q.mask] = b
	}
	// Publish in reservation order.
	for spin := 0; q.prodTail.Load() != head; spin++ {
		if spin > 64 {
			runtime.Gosched()
		}
	}
	q.prodTail.Store(head + n)
	return int(n)
}

// dequeue moves up to len(dst) Bufs into dst and returns how many. Only
// one goroutine may dequeue at a time.
func (q *queue) dequeue(dst []*pkt.Buf) int {
	tail := q.consTail.Load()
	n := min(uint64(len(dst)), q.prodTail.Load()-tail)
	for i := range dst[:n] {
		s := &q.slots[(tail+uint64(i))&q.mask]
		dst[i] = *s
		*s = nil
	}
	q.consTail.Store(tail + n)
	return int(n)
}

// len returns the number of queued Bufs (a snapshot).
func (q *queue) len() int {
	return int(q.prodTail.Load() - q.consTail.Load())
}
