package reasm

import (
	"sync"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// largeSet is a Table's fixed set of output buffers for datagrams bigger
// than a buffer of the caller's pool. The Bufs are wrapped with the set as
// their Owner, so Buf.Free and Cache.Put hand them straight back here from
// any goroutine. (A pkt.Pool would do too, but a Cache parks another pool's
// Bufs until 64 of them gather, which would strand a small set.)
type largeSet struct {
	mu   sync.Mutex
	free []*pkt.Buf
}

// newLargeSet allocates n buffers of size bytes in one slab.
func newLargeSet(n, size int) *largeSet {
	s := &largeSet{free: make([]*pkt.Buf, 0, n)}
	slab := make([]byte, n*size)
	for i := range n {
		mem := slab[i*size : (i+1)*size : (i+1)*size]
		s.free = append(s.free, pkt.Wrap(mem, pkt.Headroom, 0, 0, s))
	}
	return s
}

// get takes a buffer, or nil when all are in use.
func (s *largeSet) get() *pkt.Buf {
	s.mu.Lock()
	var b *pkt.Buf
	if n := len(s.free); n > 0 {
		b = s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
	}
	s.mu.Unlock()
	return b
}

// Release takes a buffer back (pkt.Owner). A buffer freed twice is ignored
// once the set is full rather than growing it.
func (s *largeSet) Release(b *pkt.Buf) {
	s.mu.Lock()
	if len(s.free) < cap(s.free) {
		s.free = append(s.free, b)
	}
	s.mu.Unlock()
}

// available returns the number of free buffers.
func (s *largeSet) available() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.free)
}
