package enc

import (
	"errors"
	"sync/atomic"
)

// Capture limits.
const (
	DefaultSnaplen = 2048  // bytes kept of each packet
	MaxSnaplen     = 65535 // LINKTYPE_ENC records hold at most this much
	DefaultSlots   = 512   // ring slots per tap
	maxSlots       = 1 << 16
	maxRingBytes   = 8 << 20 // slots x snaplen per tap, at most
	maxCaptures    = 8       // concurrent captures per interface
)

// Packet is one captured packet, valid until the Poll callback returns.
type Packet struct {
	Time    int64 // Unix nanoseconds
	Dir     Dir
	SPI     uint32
	Flags   uint32
	OrigLen int    // length of the packet
	Data    []byte // its first Snaplen bytes (an IP packet)
}

// CaptureOptions size a capture; zero values take the defaults.
type CaptureOptions struct {
	Snaplen int // bytes kept per packet, up to MaxSnaplen
	Slots   int // ring slots per tap, rounded up to a power of two (fewer if they would pass 8 MiB)
}

// Capture is one live capture: a bounded single-producer ring per tap,
// read by one consumer with Poll.
type Capture struct {
	ifc    *Interface
	rings  []*ring
	closed atomic.Bool
}

// ring is a single-producer single-consumer queue of preallocated slots.
type ring struct {
	_     [64]byte
	tail  atomic.Uint64 // next slot the producer fills
	_     [56]byte
	head  atomic.Uint64 // next slot the consumer reads
	_     [56]byte
	drops atomic.Uint64 // packets not captured because the ring was full
	mask  uint64
	slots []Packet
}

func newRing(slots, snap int) *ring {
	r := &ring{mask: uint64(slots - 1), slots: make([]Packet, slots)}
	mem := make([]byte, slots*snap)
	for i := range r.slots {
		r.slots[i].Data = mem[i*snap : i*snap : (i+1)*snap]
	}
	return r
}

// put copies a packet in; a full ring counts a drop and returns at once.
func (r *ring) put(data []byte, now int64, in *Info) {
	t := r.tail.Load()
	if t-r.head.Load() > r.mask {
		r.drops.Add(1)
		return
	}
	s := &r.slots[t&r.mask]
	s.Time, s.Dir, s.SPI, s.Flags, s.OrigLen = now, in.Dir, in.SPI, in.Flags, len(data)
	s.Data = s.Data[:copy(s.Data[:cap(s.Data)], data)]
	r.tail.Store(t + 1)
}

// StartCapture begins a capture of every packet enc0 sees.
func (e *Interface) StartCapture(o CaptureOptions) (*Capture, error) {
	snap := o.Snaplen
	if snap == 0 {
		snap = DefaultSnaplen
	}
	if snap < 0 || snap > MaxSnaplen {
		return nil, errors.New("enc: snaplen out of range 1..65535")
	}
	slots := o.Slots
	if slots == 0 {
		slots = DefaultSlots
	}
	if slots < 0 || slots > maxSlots {
		return nil, errors.New("enc: ring size out of range 1..65536")
	}
	n := 1
	for n < slots {
		n <<= 1
	}
	for n > 16 && n*snap > maxRingBytes {
		n >>= 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.caps) >= maxCaptures {
		return nil, errors.New("enc: too many captures running")
	}
	c := &Capture{ifc: e, rings: make([]*ring, e.taps)}
	for i := range c.rings {
		c.rings[i] = newRing(n, snap)
	}
	e.caps = append(e.caps, c)
	e.publish()
	return c, nil
}

// Poll hands every queued packet to fn, tap by tap, until fn returns
// false; it returns how many it handed over. One goroutine polls.
func (c *Capture) Poll(fn func(p *Packet) bool) int {
	n := 0
	for _, r := range c.rings {
		h, t := r.head.Load(), r.tail.Load()
		for ; h < t; h++ {
			n++
			if !fn(&r.slots[h&r.mask]) {
				r.head.Store(h + 1)
				return n
			}
		}
		r.head.Store(h)
	}
	return n
}

// Drops returns how many packets did not fit the rings.
func (c *Capture) Drops() uint64 {
	var d uint64
	for _, r := range c.rings {
		d += r.drops.Load()
	}
	return d
}

// Close stops the capture; cores stop copying from their next batch on.
func (c *Capture) Close() {
	if c.closed.Swap(true) {
		return
	}
	e := c.ifc
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.caps {
		if x == c {
			e.caps = append(e.caps[:i:i], e.caps[i+1:]...)
			break
		}
	}
	e.publish()
}
