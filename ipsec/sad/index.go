package sad

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync/atomic"
)

// The index is two hash tables that readers use without locks.
//
//	in:  (proto, spi, dst) ──► *SA        every SA, unique key
//	out: (proto, src, dst) ──► *outNode   the group of SAs, by ascending id
//
// Each is a power-of-two array of cache-line buckets with four slots of
// (32-bit hash tag, pointer) and an overflow pointer, as DPDK's rte_hash:
// a hit reads one bucket line, then the entry, whose key is compared there
// (an SA's key is in the first bytes of Config; a group node is immutable).
// Writers (under Store.mu) fill a slot with atomic stores, pointer before
// tag, clear it tag first, and swap the pointer of a changed entry in
// place (Update, a group gaining or losing an SA). A reader that matches a
// tag loads the pointer after it and verifies the key, so it never returns
// a wrong entry, and an entry that stays installed is never missed: slots
// do not move.
//
// The bucket index is derived from the tag, so growing or shrinking copies
// tags and pointers into a new table without touching the entries; it runs
// under Store.mu and is published with one atomic store. Readers holding
// the old table see it as it was, complete; writers never touch it again.

// minBuckets is the smallest table.
const minBuckets = 64

// Table loads (entries per bucket) beyond which the tables double.
const (
	inLoad  = 2
	outLoad = 2
)

const slots = 4

// bucket is one cache line of a table.
type bucket[T any] struct {
	tags [slots]atomic.Uint32 // 0: free
	ptrs [slots]atomic.Pointer[T]
	next atomic.Pointer[bucket[T]] // overflow, never unlinked
	_    [8]byte
}

// table is a hash table of T pointers, found by tag (see above).
type table[T any] struct {
	seed    uint64
	mask    uint64
	buckets []bucket[T]
}

type (
	inTable  = table[SA]      // keyed by (proto, spi, dst)
	outTable = table[outNode] // keyed by (proto, src, dst)
)

func newTable[T any](n int, seed uint64) *table[T] {
	return &table[T]{seed: seed, mask: uint64(n - 1), buckets: make([]bucket[T], n)}
}

// tag is the slot tag for hash h: its high 32 bits with bit 0 set (0
// marks a free slot). Tag bits above the index still filter a bucket's
// slots (11 bits at 1M entries).
func tag(h uint64) uint32 { return uint32(h>>32) | 1 }

// slot is the bucket index of a tag in a table of mask+1 buckets. (The
// multiply measured faster than indexing by the tag's own bits.)
func slot(tg uint32, mask uint64) uint64 { return uint64(tg*0x9e3779b1>>1) & mask }

// insert puts p with tag tg in a free slot of its bucket chain, adding an
// overflow bucket when all are taken (writer).
func (t *table[T]) insert(p *T, tg uint32) {
	b := &t.buckets[slot(tg, t.mask)]
	for {
		for i := range slots {
			if b.tags[i].Load() == 0 {
				b.ptrs[i].Store(p)
				b.tags[i].Store(tg)
				return
			}
		}
		nx := b.next.Load()
		if nx == nil {
			nx = new(bucket[T])
			nx.ptrs[0].Store(p)
			nx.tags[0].Store(tg)
			b.next.Store(nx)
			return
		}
		b = nx
	}
}

// replace puts repl (nil: nothing) in the slot of old, whose tag is tg,
// reporting whether old was found (writer). repl must have old's key.
func (t *table[T]) replace(old, repl *T, tg uint32) bool {
	for b := &t.buckets[slot(tg, t.mask)]; b != nil; b = b.next.Load() {
		for i := range slots {
			if b.ptrs[i].Load() == old {
				if repl == nil {
					b.tags[i].Store(0)
				}
				b.ptrs[i].Store(repl)
				return true
			}
		}
	}
	return false
}

// bucket calls fn for the entries of bucket i until fn returns false.
func (t *table[T]) bucket(i uint64, fn func(*T) bool) bool {
	for b := &t.buckets[i&t.mask]; b != nil; b = b.next.Load() {
		for j := range slots {
			if p := b.ptrs[j].Load(); p != nil && !fn(p) {
				return false
			}
		}
	}
	return true
}

// each calls fn for every entry until fn returns false.
func (t *table[T]) each(fn func(*T) bool) {
	for i := range uint64(len(t.buckets)) {
		if !t.bucket(i, fn) {
			return
		}
	}
}

// rehash copies t into a table of n buckets, from tags alone (writer).
func (t *table[T]) rehash(n int) *table[T] {
	nt := newTable[T](n, t.seed)
	t.filter(nt, func(*T) bool { return true })
	return nt
}

// filter copies the entries of t that keep accepts into nt (writer).
func (t *table[T]) filter(nt *table[T], keep func(*T) bool) {
	for i := range t.buckets {
		for b := &t.buckets[i]; b != nil; b = b.next.Load() {
			for j := range slots {
				if p := b.ptrs[j].Load(); p != nil && keep(p) {
					nt.insert(p, b.tags[j].Load())
				}
			}
		}
	}
}

// resizeTo returns the bucket count for n entries at the given load, or
// 0 to keep size: it doubles past load and halves below load/8, which
// leaves at least a factor 4 between a shrink and the next growth.
func resizeTo(size, n, load int) int {
	s := size
	for n > load*s {
		s *= 2
	}
	for s > minBuckets && 8*n < load*s {
		s /= 2
	}
	if s == size {
		return 0
	}
	return s
}

// sizeFor is the bucket count for a new table of n entries.
func sizeFor(n, load int) int {
	if s := resizeTo(minBuckets, n, load); s != 0 {
		return s
	}
	return minBuckets
}

const (
	k1 = 0x9e3779b97f4a7c15
	k2 = 0xc2b2ae3d27d4eb4f
)

// fmix is MurmurHash3's 64-bit finalizer.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// addrWords returns the 128 bits of an address (IPv4 as IPv4-mapped).
func addrWords(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func inTag(seed uint64, proto Proto, spi uint32, dst netip.Addr) uint32 {
	hi, lo := addrWords(dst)
	return tag(fmix((lo^seed)*k1 ^ bits.RotateLeft64(hi, 31) ^ uint64(spi)<<8 ^ uint64(proto)))
}

func outTag(seed uint64, proto Proto, src, dst netip.Addr) uint32 {
	shi, slo := addrWords(src)
	dhi, dlo := addrWords(dst)
	return tag(fmix((slo^seed)*k1 ^ dlo*k2 ^ bits.RotateLeft64(shi, 17) ^ bits.RotateLeft64(dhi, 41) ^ uint64(proto)))
}

// findIn returns the SA installed for (proto, spi, dst), or nil.
func findIn(t *inTable, proto Proto, spi uint32, dst netip.Addr) *SA {
	tg := inTag(t.seed, proto, spi, dst)
	for b := &t.buckets[slot(tg, t.mask)]; b != nil; b = b.next.Load() {
		for i := range slots {
			if b.tags[i].Load() != tg {
				continue
			}
			if sa := b.ptrs[i].Load(); sa != nil && sa.SPI == spi && sa.Dst == dst && sa.Proto == proto {
				return sa
			}
		}
	}
	return nil
}

func insertIn(t *inTable, sa *SA) { t.insert(sa, inTag(t.seed, sa.Proto, sa.SPI, sa.Dst)) }

// replaceIn puts repl (nil: nothing) in old's slot (writer).
func replaceIn(t *inTable, old, repl *SA) bool {
	return t.replace(old, repl, inTag(t.seed, old.Proto, old.SPI, old.Dst))
}

// outNode is the group of SAs sharing (proto, src, dst), immutable once
// published. Up to two SAs (the usual: current and rekeyed) are inline.
type outNode struct {
	src, dst netip.Addr
	proto    Proto
	n        uint8
	inline   [2]*SA
	more     []*SA // when more than two
}

func newOutNode(proto Proto, src, dst netip.Addr, sas []*SA) *outNode {
	if len(sas) == 0 {
		return nil
	}
	g := &outNode{src: src, dst: dst, proto: proto}
	if len(sas) <= len(g.inline) {
		g.n = uint8(copy(g.inline[:], sas))
	} else {
		g.more = sas
	}
	return g
}

// outNodeWith is newOutNode(proto, src, dst, withSA(sas, sa)) without
// the intermediate copy when the group stays inline (the common case:
// one SA per pair of addresses).
func outNodeWith(proto Proto, src, dst netip.Addr, sas []*SA, sa *SA) *outNode {
	if len(sas) >= 2 {
		return newOutNode(proto, src, dst, withSA(sas, sa))
	}
	g := &outNode{src: src, dst: dst, proto: proto, n: uint8(len(sas) + 1)}
	g.inline[len(sas)] = sa
	if len(sas) == 1 {
		g.inline[0] = sas[0]
		if sas[0].id > sa.id {
			g.inline[0], g.inline[1] = sa, sas[0]
		}
	}
	return g
}

// list is the group's SAs by ascending id.
func (g *outNode) list() []*SA {
	if g.more != nil {
		return g.more
	}
	return g.inline[:g.n]
}

// findOut returns the group for (proto, src, dst), or nil.
func findOut(t *outTable, proto Proto, src, dst netip.Addr) *outNode {
	tg := outTag(t.seed, proto, src, dst)
	for b := &t.buckets[slot(tg, t.mask)]; b != nil; b = b.next.Load() {
		for i := range slots {
			if b.tags[i].Load() != tg {
				continue
			}
			if g := b.ptrs[i].Load(); g != nil && g.dst == dst && g.src == src && g.proto == proto {
				return g
			}
		}
	}
	return nil
}

// setOut publishes g as the group (proto, src, dst) (nil: remove it) and
// returns the change in the number of groups (writer).
func setOut(t *outTable, proto Proto, src, dst netip.Addr, g *outNode) int {
	old := findOut(t, proto, src, dst)
	tg := outTag(t.seed, proto, src, dst)
	switch {
	case old == nil && g == nil:
		return 0
	case old == nil:
		t.insert(g, tg)
		return 1
	case g == nil:
		t.replace(old, nil, tg)
		return -1
	}
	t.replace(old, g, tg)
	return 0
}

// withSA returns a copy of sas with sa inserted in id order.
func withSA(sas []*SA, sa *SA) []*SA {
	i := len(sas)
	for i > 0 && sas[i-1].id > sa.id {
		i--
	}
	c := make([]*SA, 0, len(sas)+1)
	c = append(c, sas[:i]...)
	c = append(c, sa)
	return append(c, sas[i:]...)
}

// withoutSA returns a copy of sas without sa (nil when none remain).
func withoutSA(sas []*SA, sa *SA) []*SA {
	if len(sas) == 1 && sas[0] == sa {
		return nil
	}
	c := make([]*SA, 0, len(sas))
	for _, x := range sas {
		if x != sa {
			c = append(c, x)
		}
	}
	return c
}

// Inbound finds the SA for an inbound packet: an SA installed for
// (proto, spi, dst) whose source is src or unspecified; failing that, one
// installed with an unspecified destination (SPI-only, as rte_ipsec_sad)
// whose source is src or unspecified. (Proto, Dst, SPI) is unique, so an
// exact (spi, dst, src) SA and a (spi, dst) wildcard one cannot coexist.
// It returns the SA whatever its state (check Usable) or nil. Lock-free,
// no allocations; the result may be kept for the current burst only.
func (s *Store) Inbound(proto Proto, spi uint32, dst, src netip.Addr) *SA {
	t := s.in.Load()
	if sa := findIn(t, proto, spi, dst); sa != nil && (sa.Src == src || sa.Src.IsUnspecified()) {
		return sa
	}
	if s.wild.Load() == 0 {
		return nil
	}
	unspec := netip.IPv6Unspecified()
	if dst.Is4() {
		unspec = netip.IPv4Unspecified()
	}
	if sa := findIn(t, proto, spi, unspec); sa != nil && (sa.Src == src || sa.Src.IsUnspecified()) {
		return sa
	}
	return nil
}

// Outbound picks the SA for a policy request: proto and endpoints equal,
// reqid equal unless 0, and mode equal unless either is ModeAny. Among
// mature SAs it takes the newest (highest ID), or the oldest when
// preferOld (net.key.preferred_oldsa=1); with no mature one, a dying one
// by the same rule; larval and dead SAs never. Nil when none. Lock-free,
// no allocations; the result may be kept for the current burst only.
func (s *Store) Outbound(proto Proto, mode Mode, src, dst netip.Addr, reqid uint32, preferOld bool) *SA {
	g := findOut(s.out.Load(), proto, src, dst)
	if g == nil {
		return nil
	}
	var dying *SA
	sas := g.list()
	n := len(sas)
	for i := range n {
		j := n - 1 - i
		if preferOld {
			j = i
		}
		sa := sas[j]
		if (reqid != 0 && sa.ReqID != reqid) || (mode != ModeAny && sa.Mode != ModeAny && sa.Mode != mode) {
			continue
		}
		switch sa.State() {
		case StateMature:
			return sa
		case StateDying:
			if dying == nil {
				dying = sa
			}
		}
	}
	return dying
}
