package pkt

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of Bufs allocated once. Cores take and return Bufs
// through their own Cache, which moves them to and from the shared free
// list in batches, so the lock is taken once per batch, not per packet
// (the design of DPDK's mempool with per-lcore caches).
type Pool struct {
	name    string
	size    int
	total   int
	mu      sync.Mutex
	free    []*Buf
	empties atomic.Uint64 // Get calls that found the pool empty
}

// cacheBatch is how many Bufs a Cache moves to or from the pool at once.
const cacheBatch = 64

// NewPool allocates n Bufs of size bytes each (size < Headroom+64 is
// raised to DefaultSize).
func NewPool(name string, n, size int) *Pool {
	if size < Headroom+64 {
		size = DefaultSize
	}
	p := &Pool{name: name, size: size, total: n, free: make([]*Buf, 0, n)}
	// One slab for all packet memory and one for the headers: two
	// allocations for the life of the pool.
	slab := make([]byte, n*size)
	hdrs := make([]Buf, n)
	for i := range hdrs {
		b := &hdrs[i]
		b.mem = slab[i*size : (i+1)*size : (i+1)*size]
		b.pool = p
		b.Reset()
		p.free = append(p.free, b)
	}
	return p
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// BufSize returns the size of each Buf.
func (p *Pool) BufSize() int { return p.size }

// Total returns the number of Bufs the pool was made with.
func (p *Pool) Total() int { return p.total }

// Available returns the number of Bufs on the shared free list (Bufs held
// in caches are not counted).
func (p *Pool) Available() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// Empties returns how many times a Get found no Buf.
func (p *Pool) Empties() uint64 { return p.empties.Load() }

// String describes the pool.
func (p *Pool) String() string {
	return fmt.Sprintf("pool %s: %d x %d B", p.name, p.total, p.size)
}

// Release returns a Buf to the pool (Owner); it takes the lock.
func (p *Pool) Release(b *Buf) { p.putShared(b) }

func (p *Pool) putShared(b *Buf) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// take moves up to len(dst) Bufs from the shared list into dst.
func (p *Pool) take(dst []*Buf) int {
	p.mu.Lock()
	n := min(len(dst), len(p.free))
	copy(dst, p.free[len(p.free)-n:])
	clear(p.free[len(p.free)-n:])
	p.free = p.free[:len(p.free)-n]
	p.mu.Unlock()
	return n
}

// give moves Bufs back onto the shared list.
func (p *Pool) give(src []*Buf) {
	p.mu.Lock()
	p.free = append(p.free, src...)
	p.mu.Unlock()
}

// NewCache returns a cache for one core (one goroutine) of this pool.
func (p *Pool) NewCache() *Cache {
	return &Cache{pool: p, local: make([]*Buf, 0, 4*cacheBatch), foreign: make([]*Buf, 0, cacheBatch)}
}

// Get takes one Buf from the shared list (for cold paths); nil when empty.
func (p *Pool) Get() *Buf {
	var one [1]*Buf
	if p.take(one[:]) == 0 {
		p.empties.Add(1)
		return nil
	}
	one[0].Reset()
	return one[0]
}

// Cache is one core's lock-free window on a Pool. It must be used by one
// goroutine at a time.
type Cache struct {
	pool    *Pool
	local   []*Buf
	foreign []*Buf // Bufs of other pools, returned to them in batches
}

// Pool returns the pool behind the cache.
func (c *Cache) Pool() *Pool { return c.pool }

// Get returns a reset Buf, or nil when the pool is exhausted.
func (c *Cache) Get() *Buf {
	if len(c.local) == 0 && !c.refill() {
		c.pool.empties.Add(1)
		return nil
	}
	b := c.local[len(c.local)-1]
	c.local[len(c.local)-1] = nil
	c.local = c.local[:len(c.local)-1]
	b.Reset()
	return b
}

// GetBulk fills dst with reset Bufs and returns how many it got.
func (c *Cache) GetBulk(dst []*Buf) int {
	for i := range dst {
		b := c.Get()
		if b == nil {
			return i
		}
		dst[i] = b
	}
	return len(dst)
}

func (c *Cache) refill() bool {
	n := c.pool.take(c.local[len(c.local):cap(c.local)][:cacheBatch])
	c.local = c.local[:len(c.local)+n]
	return n > 0
}

// Put frees a Buf. Bufs of this cache's pool stay in the cache; others go
// back to their own owner.
func (c *Cache) Put(b *Buf) {
	if b.owner != nil || b.pool == nil {
		b.Free()
		return
	}
	if b.pool != c.pool {
		// A Buf that crossed from another core's pool (ring ports hand
		// Bufs over): batch it home instead of locking per packet.
		c.foreign = append(c.foreign, b)
		if len(c.foreign) >= cacheBatch {
			c.flushForeign()
		}
		return
	}
	if len(c.local) == cap(c.local) {
		c.pool.give(c.local[len(c.local)-cacheBatch:])
		clear(c.local[len(c.local)-cacheBatch:])
		c.local = c.local[:len(c.local)-cacheBatch]
	}
	c.local = append(c.local, b)
}

// PutBulk frees every Buf in bufs and clears the slice's entries.
func (c *Cache) PutBulk(bufs []*Buf) {
	for i, b := range bufs {
		if b != nil {
			c.Put(b)
			bufs[i] = nil
		}
	}
}

func (c *Cache) flushForeign() {
	for len(c.foreign) > 0 {
		// Move the Bufs of the first one's pool to the front, give them
		// back in one locked call, repeat for the next pool.
		p := c.foreign[0].pool
		i := 0
		for j, b := range c.foreign {
			if b.pool == p {
				c.foreign[i], c.foreign[j] = c.foreign[j], c.foreign[i]
				i++
			}
		}
		p.give(c.foreign[:i])
		rest := copy(c.foreign, c.foreign[i:])
		clear(c.foreign[rest:])
		c.foreign = c.foreign[:rest]
	}
}

// Flush returns every cached Buf to its pool (when a core stops).
func (c *Cache) Flush() {
	c.flushForeign()
	c.pool.give(c.local)
	clear(c.local)
	c.local = c.local[:0]
}

// Len returns the number of Bufs held by the cache.
func (c *Cache) Len() int { return len(c.local) }
