// Package lpm provides immutable longest-prefix-match tables for IPv4 and
// IPv6 routes, built off the hot path and read lock-free by every core.
//
// A Builder collects routes; Build compiles them into a Table, which the
// engine publishes with atomic.Pointer. A Table is never modified, so any
// number of goroutines may look up concurrently.
//
// Each address family is a multibit trie in the style of Poptrie (Asai and
// Ohara, SIGCOMM 2015): a 16-bit direct-indexed root, then nodes of stride 6
// whose 64 slots are compressed with two bitmaps and popcount. Prefixes are
// expanded to stride boundaries and leaf-pushed, so every slot holds either a
// child or the longest match covering it, and a lookup never backtracks.
//
//	key bits:  0 ........ 15 | 16..21 | 22..27 | 28..33 | ...  (v4 stops at 33,
//	           root [65536]   | node   | node   | node   |       v6 at 129; the
//	                  |                                          last chunk is
//	                  v                                          zero-padded)
//	root slot = 0 (no route) | value | node index
//	                                     |
//	             nodes []node  <---------+
//	             node{vector, leafvec uint64; base0, base1 uint32}
//	               slot v is a child if vector bit v is set:
//	                   nodes[base1 + popcount(vector & bits 0..v)]
//	               else a leaf:
//	                   leaves[base0 + popcount(leafvec & bits 0..v)]
//	               (base0 and base1 are stored minus one)
//	             leaves []uint32   (runs of equal adjacent leaves stored once)
//
// A node's children are contiguous in nodes and its leaves contiguous in
// leaves. All arrays are pointer-free, so the garbage collector does not scan
// them, and a lookup is a handful of dependent loads with no allocation: at
// most 1+3 for IPv4 and 1+19 for IPv6 (1+6 for a /48).
package lpm

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Root slot encoding: 0 means no route; otherwise the kind sits above the
// 32-bit payload.
const (
	rootValue = 1 << 32 // payload is the route value
	rootNode  = 2 << 32 // payload is an index into nodes
)

const (
	rootBits = 16 // bits resolved by the direct-indexed root
	stride   = 6  // bits resolved by each node (64 slots, one uint64 bitmap)
)

// emptyRoot is shared by tables that have no routes of a family.
var emptyRoot [1 << rootBits]uint64

// node is a compressed 64-slot trie node.
type node struct {
	vector  uint64 // bit v set: slot v is a child node
	leafvec uint64 // bit v set: slot v starts a new run in leaves
	base0   uint32 // index of the node's first leaf, minus 1 (mod 2^32)
	base1   uint32 // index of the node's first child, minus 1 (mod 2^32)
}

// route is a prefix as a left-aligned 128-bit key (IPv4 in hi's top 32 bits).
type route struct {
	hi, lo uint64
	val    uint32
	bits   uint8
}

// Builder collects routes for a Table. It is not safe for concurrent use.
// The zero value is not ready; use NewBuilder.
type Builder struct {
	m map[netip.Prefix]uint32
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{m: make(map[netip.Prefix]uint32)}
}

// Insert adds p (masked to its length) with value, replacing the value of an
// equal prefix. Invalid prefixes are ignored. IPv4-mapped IPv6 prefixes stay
// IPv6.
func (b *Builder) Insert(p netip.Prefix, value uint32) {
	p = p.Masked()
	if !p.IsValid() {
		return
	}
	b.m[p] = value
}

// Delete removes p (masked to its length) and reports whether it was present.
func (b *Builder) Delete(p netip.Prefix) bool {
	p = p.Masked()
	if _, ok := b.m[p]; !ok {
		return false
	}
	delete(b.m, p)
	return true
}

// Len returns the number of routes in the Builder.
func (b *Builder) Len() int { return len(b.m) }

// Table is an immutable compiled route table, safe for concurrent readers.
// Obtain one from Builder.Build.
type Table struct {
	root4  *[1 << rootBits]uint64
	root6  *[1 << rootBits]uint64
	nodes  []node   // both families
	leaves []uint32 // both families
	none   uint32   // leaf value meaning "no route"; no route has this value

	routes []route // v4 then v6, each in prefix order; for Routes and Len
	n4     int     // number of IPv4 routes at the front of routes
}

// Lookup4 returns the value of the longest IPv4 prefix containing a.
func (t *Table) Lookup4(a [4]byte) (value uint32, ok bool) {
	k := binary.BigEndian.Uint32(a[:])
	r := t.root4[k>>16]
	if r < rootNode {
		return uint32(r), r != 0
	}
	n := &t.nodes[uint32(r)]
	x := uint64(k) << 48 // remaining key bits, left-aligned, zero-padded
	for {
		// Shifting a bitmap left by 63-slot leaves the bits of slots 0..slot,
		// with the slot's own bit on top.
		s := ^x >> (64 - stride)
		if vec := n.vector << s; int64(vec) < 0 {
			n = &t.nodes[n.base1+uint32(bits.OnesCount64(vec))]
			x <<= stride
			continue
		}
		return t.leaf(n, s)
	}
}

// leaf returns the result of leaf slot 63-s of n.
func (t *Table) leaf(n *node, s uint64) (uint32, bool) {
	v := t.leaves[n.base0+uint32(bits.OnesCount64(n.leafvec<<s))]
	if v == t.none {
		return 0, false
	}
	return v, true
}

// Lookup6 returns the value of the longest IPv6 prefix containing *a.
func (t *Table) Lookup6(a *[16]byte) (value uint32, ok bool) {
	hi := binary.BigEndian.Uint64(a[:8])
	r := t.root6[hi>>48]
	if r < rootNode {
		return uint32(r), r != 0
	}
	n := &t.nodes[uint32(r)]
	// Bits 16..63 are exactly 8 chunks of hi; bits 64..127 follow in lo.
	x := hi << rootBits
	for range (64 - rootBits) / stride {
		s := ^x >> (64 - stride)
		vec := n.vector << s
		if int64(vec) >= 0 {
			return t.leaf(n, s)
		}
		n = &t.nodes[n.base1+uint32(bits.OnesCount64(vec))]
		x <<= stride
	}
	x = binary.BigEndian.Uint64(a[8:])
	for {
		s := ^x >> (64 - stride)
		vec := n.vector << s
		if int64(vec) >= 0 {
			return t.leaf(n, s)
		}
		n = &t.nodes[n.base1+uint32(bits.OnesCount64(vec))]
		x <<= stride
	}
}

// Lookup returns the value of the longest prefix containing a. IPv4-mapped
// IPv6 addresses are looked up as IPv6; the zone is ignored.
func (t *Table) Lookup(a netip.Addr) (uint32, bool) {
	if a.Is4() {
		return t.Lookup4(a.As4())
	}
	if a.Is6() {
		b := a.As16()
		return t.Lookup6(&b)
	}
	return 0, false
}

// Len returns the number of routes in the table.
func (t *Table) Len() int { return len(t.routes) }

// Routes calls fn for each route, IPv4 first, each family in prefix order
// (by address, then shorter first), until fn returns false.
func (t *Table) Routes(fn func(netip.Prefix, uint32) bool) {
	for i, r := range t.routes {
		var a netip.Addr
		if i < t.n4 {
			a = netip.AddrFrom4([4]byte{byte(r.hi >> 56), byte(r.hi >> 48), byte(r.hi >> 40), byte(r.hi >> 32)})
		} else {
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], r.hi)
			binary.BigEndian.PutUint64(b[8:], r.lo)
			a = netip.AddrFrom16(b)
		}
		if !fn(netip.PrefixFrom(a, int(r.bits)), r.val) {
			return
		}
	}
}

// Stats describes a Table's size.
type Stats struct {
	Routes4, Routes6 int // routes per family
	Nodes            int // trie nodes (24 bytes each)
	Leaves           int // stored leaves (4 bytes each)
	LookupBytes      int // memory read by lookups: roots, nodes, leaves
	TotalBytes       int // LookupBytes plus the route list kept for Routes
}

// Stats returns the table's size figures.
func (t *Table) Stats() Stats {
	s := Stats{
		Routes4: t.n4,
		Routes6: len(t.routes) - t.n4,
		Nodes:   len(t.nodes),
		Leaves:  len(t.leaves),
	}
	const rootSize = 8 << rootBits
	if t.root4 != &emptyRoot {
		s.LookupBytes += rootSize
	}
	if t.root6 != &emptyRoot {
		s.LookupBytes += rootSize
	}
	s.LookupBytes += 24*cap(t.nodes) + 4*cap(t.leaves)
	s.TotalBytes = s.LookupBytes + 24*cap(t.routes)
	return s
}
