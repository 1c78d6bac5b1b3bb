// Package pkt holds packet buffers, the pools they come from and the
// per-core caches that hand them out without locks.
//
// A Buf is a fixed-size piece of memory with the packet in the middle:
//
//	|<- headroom ->|<------ packet ------>|<- tailroom ->|
//	0              off                 off+n          len(mem)
//
// Headroom lets a transform prepend outer IP/UDP/ESP/AH headers in place;
// tailroom takes ESP padding, the trailer and the ICV. The memory may be
// Go memory (Pool) or foreign memory such as a DPDK mbuf's data room
// (Wrap with an Owner), so a zero-copy driver fits the same type.
//
// Flow: a port's rx queue takes Bufs from its Cache, fills them and hands a
// burst to the engine; the engine transforms them in place and gives them
// to a port's tx queue, which frees them (Free / Cache.PutBulk) after sending.
package pkt

import "net/netip"

const (
	// Headroom is the space reserved in front of a received packet: outer
	// IPv6 (40) + UDP (8) + ESP (8) + IV (16) + AH (up to 64) + Ethernet
	// and VLAN (18) fit with room to spare.
	Headroom = 256
	// DefaultSize is the default buffer size: headroom, a 9000-byte jumbo
	// frame's worth is not needed for the common 1500 MTU, so 2048 of data
	// plus tailroom for padding (255), the ESP trailer (2) and a 32-byte ICV.
	DefaultSize = Headroom + 2048 + 320
	// BurstSize is the default number of packets moved per burst.
	BurstSize = 32
)

// Owner takes back Bufs whose memory it manages (a Pool, or a driver that
// wraps foreign memory such as DPDK mbufs).
type Owner interface {
	Release(b *Buf)
}

// Buf is one packet buffer. The zero value is not usable: get Bufs from a
// Pool's Cache or make them with Wrap.
type Buf struct {
	mem []byte // the whole buffer; len(mem) == cap(mem)
	off int    // start of the packet in mem
	n   int    // length of the packet

	// Meta travels with the packet through the pipeline; reset on Get.
	Meta Meta

	// Handle is an opaque driver handle (for example an rte_mbuf pointer)
	// for Bufs made by Wrap; zero for pool buffers.
	Handle uintptr

	owner Owner
	pool  *Pool
}

// Meta is per-packet metadata filled by the stages a packet passes.
type Meta struct {
	InPort  uint16 // index of the port it arrived on
	OutPort uint16 // index of the port chosen by the route lookup
	RxQueue uint16 // rx queue it arrived on
	// RxTime is the receive timestamp in Unix nanoseconds when the driver
	// knows it (pcap files carry theirs, so offline output is repeatable).
	RxTime  int64
	Flags   Flags      // what has happened to it so far
	NextHop netip.Addr // next-hop address chosen by the route lookup
	// L4Hint caches the upper-layer protocol and offset found while
	// classifying (0 when unknown).
	L4Proto uint8
	L4Off   uint16
	// History records the IPsec transforms removed from the packet, oldest
	// first, so the inbound policy can check the whole decapsulation chain.
	History    [MaxHistory]Step
	HistoryLen uint8
	// Cookie is free for the stage that currently owns the packet (for
	// example the SA index chosen by the outbound policy lookup).
	Cookie uint64
}

// MaxHistory is the number of decapsulation steps a packet remembers.
const MaxHistory = 4

// Step is one IPsec transform removed from an inbound packet.
type Step struct {
	Proto  uint8  // 50 ESP, 51 AH, 108 IPComp
	Tunnel bool   // tunnel mode (an inner IP header was exposed)
	SPI    uint32 // SPI or CPI
	ReqID  uint32 // the SA's reqid, linking it to the policy that wants it
}

// AddStep appends a decapsulation step; it reports false when the history
// is full (the packet should be dropped: too many nested transforms).
func (m *Meta) AddStep(s Step) bool {
	if int(m.HistoryLen) >= MaxHistory {
		return false
	}
	m.History[m.HistoryLen] = s
	m.HistoryLen++
	return true
}

// Steps returns the recorded decapsulation steps, oldest first.
func (m *Meta) Steps() []Step { return m.History[:m.HistoryLen] }

// Flags describe a packet's path through the router.
type Flags uint32

const (
	// FlagLocalOrigin marks packets made by the router or sent by the host
	// path: they are not forwarded, so TTL is not decremented.
	FlagLocalOrigin Flags = 1 << iota
	// FlagToLocal marks packets addressed to one of the router's addresses.
	FlagToLocal
	// FlagDecapsulated marks packets that had IPsec removed.
	FlagDecapsulated
	// FlagEncapsulated marks packets that got IPsec applied.
	FlagEncapsulated
	// FlagNoIPsec tells the outbound stages to leave the packet alone
	// (already processed, or policy bypass decided earlier).
	FlagNoIPsec
	// FlagForwarded marks packets whose TTL was already decremented.
	FlagForwarded
)

// Bytes returns the packet.
func (b *Buf) Bytes() []byte { return b.mem[b.off : b.off+b.n : b.off+b.n] }

// Len returns the packet length.
func (b *Buf) Len() int { return b.n }

// Headroom returns the free space in front of the packet.
func (b *Buf) Headroom() int { return b.off }

// Tailroom returns the free space after the packet.
func (b *Buf) Tailroom() int { return len(b.mem) - b.off - b.n }

// Cap returns the size of the whole buffer.
func (b *Buf) Cap() int { return len(b.mem) }

// Prepend grows the packet by n bytes at the front and returns them, or nil
// when the headroom is too small.
func (b *Buf) Prepend(n int) []byte {
	if n < 0 || n > b.off {
		return nil
	}
	b.off -= n
	b.n += n
	return b.mem[b.off : b.off+n : b.off+n]
}

// Append grows the packet by n bytes at the end and returns them, or nil
// when the tailroom is too small.
func (b *Buf) Append(n int) []byte {
	if n < 0 || n > b.Tailroom() {
		return nil
	}
	end := b.off + b.n
	b.n += n
	return b.mem[end : end+n : end+n]
}

// TrimFront removes n bytes from the front; it reports false (and changes
// nothing) when the packet is shorter than n.
func (b *Buf) TrimFront(n int) bool {
	if n < 0 || n > b.n {
		return false
	}
	b.off += n
	b.n -= n
	return true
}

// TrimBack removes n bytes from the end; it reports false (and changes
// nothing) when the packet is shorter than n.
func (b *Buf) TrimBack(n int) bool {
	if n < 0 || n > b.n {
		return false
	}
	b.n -= n
	return true
}

// SetLen sets the packet length keeping its start; it reports false when
// the buffer is too small.
func (b *Buf) SetLen(n int) bool {
	if n < 0 || b.off+n > len(b.mem) {
		return false
	}
	b.n = n
	return true
}

// Reset empties the packet, restores the default headroom (or as much as
// the buffer allows) and clears the metadata.
func (b *Buf) Reset() {
	b.off = min(Headroom, len(b.mem)/4)
	b.n = 0
	b.Meta = Meta{}
}

// ResetAt empties the packet with the given headroom.
func (b *Buf) ResetAt(headroom int) bool {
	if headroom < 0 || headroom > len(b.mem) {
		return false
	}
	b.off = headroom
	b.n = 0
	b.Meta = Meta{}
	return true
}

// SetBytes replaces the packet with a copy of p at the default headroom;
// it reports false when p does not fit.
func (b *Buf) SetBytes(p []byte) bool {
	b.Reset()
	if b.off+len(p) > len(b.mem) {
		return false
	}
	b.n = copy(b.mem[b.off:], p)
	return true
}

// Move shifts the packet so that it starts with the given headroom, keeping
// its contents; it reports false when it does not fit.
func (b *Buf) Move(headroom int) bool {
	if headroom < 0 || headroom+b.n > len(b.mem) {
		return false
	}
	copy(b.mem[headroom:headroom+b.n], b.mem[b.off:b.off+b.n])
	b.off = headroom
	return true
}

// Raw returns the whole underlying buffer, headroom and tailroom included,
// and the packet's offset in it. Drivers use it to fill a Buf in place.
func (b *Buf) Raw() (mem []byte, off int) { return b.mem, b.off }

// SetData sets the packet to mem[off:off+n] of the underlying buffer.
func (b *Buf) SetData(off, n int) bool {
	if off < 0 || n < 0 || off+n > len(b.mem) {
		return false
	}
	b.off, b.n = off, n
	return true
}

// Free gives the Buf back to where it came from. It is safe from any
// goroutine; per-core code should prefer Cache.Put, which takes no lock.
func (b *Buf) Free() {
	if b.owner != nil {
		b.owner.Release(b)
		return
	}
	if b.pool != nil {
		b.pool.putShared(b)
	}
}

// Wrap makes a Buf over foreign memory (for example a DPDK mbuf's data
// room); owner.Release is called when it is freed.
func Wrap(mem []byte, off, n int, handle uintptr, owner Owner) *Buf {
	b := &Buf{mem: mem[:len(mem):len(mem)], Handle: handle, owner: owner}
	if !b.SetData(off, n) {
		b.SetData(0, 0)
	}
	return b
}

// Rewrap points an existing wrapped Buf at new foreign memory, so drivers
// can recycle Buf headers instead of allocating them per packet.
func (b *Buf) Rewrap(mem []byte, off, n int, handle uintptr) bool {
	b.mem = mem[:len(mem):len(mem)]
	b.Handle = handle
	b.Meta = Meta{}
	return b.SetData(off, n)
}
