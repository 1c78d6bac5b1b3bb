package lpm

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// Build compiles the collected routes into a new Table. The Builder stays
// usable; later changes do not affect the returned Table.
func (b *Builder) Build() *Table {
	var r4, r6 []route
	for p, v := range b.m {
		a := p.Addr()
		if a.Is4() {
			x := a.As4()
			r4 = append(r4, route{hi: uint64(binary.BigEndian.Uint32(x[:])) << 32, val: v, bits: uint8(p.Bits())})
		} else {
			x := a.As16()
			r6 = append(r6, route{hi: binary.BigEndian.Uint64(x[:8]), lo: binary.BigEndian.Uint64(x[8:]), val: v, bits: uint8(p.Bits())})
		}
	}
	// Prefix order: a covering prefix sorts before everything it covers, so
	// expanding in this order lets longer prefixes overwrite shorter ones.
	slices.SortFunc(r4, cmpRoute)
	slices.SortFunc(r6, cmpRoute)

	c := compiler{none: pickNone(r4, r6)}
	t := &Table{none: c.none, n4: len(r4)}
	t.root4 = c.root(r4)
	t.root6 = c.root(r6)
	t.nodes = slices.Clip(c.nodes)
	t.leaves = slices.Clip(c.leaves)
	t.routes = append(r4, r6...)
	return t
}

func cmpRoute(a, b route) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	return cmp.Compare(a.bits, b.bits)
}

// pickNone returns a value used by no route, to mark "no route" in leaves.
func pickNone(rs ...[]route) uint32 {
	var vals []uint32
	for _, r := range rs {
		for _, x := range r {
			vals = append(vals, x.val)
		}
	}
	if !slices.Contains(vals, math.MaxUint32) {
		return math.MaxUint32
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	// At most 2^32-1 distinct values exist besides the candidate, and fewer
	// routes than that, so a gap below the top exists.
	none := uint32(math.MaxUint32)
	for i := len(vals) - 1; i >= 0 && vals[i] == none; i-- {
		none--
	}
	return none
}

// compiler accumulates the node and leaf arrays of one Table.
type compiler struct {
	nodes  []node
	leaves []uint32
	none   uint32
}

// chunk returns the stride-bit slot index of r at bit depth d (a multiple of
// stride past rootBits, so a chunk never straddles hi and lo).
func chunk(r *route, d int) int {
	if d < 64 {
		return int(r.hi << d >> (64 - stride))
	}
	return int(r.lo << (d - 64) >> (64 - stride))
}

// root builds the direct-indexed root for one family's sorted routes.
func (c *compiler) root(rs []route) *[1 << rootBits]uint64 {
	if len(rs) == 0 {
		return &emptyRoot
	}
	root := new([1 << rootBits]uint64)
	for i := 0; i < len(rs); {
		r := &rs[i]
		s := int(r.hi >> (64 - rootBits))
		if r.bits <= rootBits {
			for j := s; j < s+1<<(rootBits-r.bits); j++ {
				root[j] = rootValue | uint64(r.val)
			}
			i++
			continue
		}
		// Every route covering slot s sorted before its first longer route,
		// so root[s] is final here; the longer routes of s are contiguous.
		j := i + 1
		for j < len(rs) && int(rs[j].hi>>(64-rootBits)) == s {
			j++
		}
		def := c.none
		if root[s] != 0 {
			def = uint32(root[s])
		}
		idx := c.alloc(1)
		c.fill(idx, rs[i:j], rootBits, def)
		root[s] = rootNode | uint64(idx)
		i = j
	}
	return root
}

// alloc appends n zero nodes and returns the index of the first.
func (c *compiler) alloc(n int) uint32 {
	i := len(c.nodes)
	c.nodes = slices.Grow(c.nodes, n)[:i+n]
	if len(c.nodes) > math.MaxUint32 {
		panic("lpm: too many nodes")
	}
	return uint32(i)
}

// fill builds node idx at depth d from rs, the sorted routes longer than d
// under it; def is the longest match inherited from above (leaf pushing).
func (c *compiler) fill(idx uint32, rs []route, d int, def uint32) {
	var vals [1 << stride]uint32
	for i := range vals {
		vals[i] = def
	}
	var from, to [1 << stride]int32
	var vector uint64
	for i := 0; i < len(rs); {
		r := &rs[i]
		s := chunk(r, d)
		if int(r.bits) <= d+stride {
			// Controlled prefix expansion; longer routes come later and win.
			for j := s; j < s+1<<(d+stride-int(r.bits)); j++ {
				vals[j] = r.val
			}
			i++
			continue
		}
		j := i + 1
		for j < len(rs) && chunk(&rs[j], d) == s {
			j++
		}
		from[s], to[s] = int32(i), int32(j)
		vector |= 1 << s
		i = j
	}

	base0 := len(c.leaves)
	if base0 > math.MaxUint32 {
		panic("lpm: too many leaves")
	}
	var leafvec uint64
	for s, v := range vals {
		if vector>>s&1 != 0 {
			continue
		}
		if leafvec == 0 || v != c.leaves[len(c.leaves)-1] {
			leafvec |= 1 << s
			c.leaves = append(c.leaves, v)
		}
	}
	base1 := c.alloc(bits.OnesCount64(vector))
	c.nodes[idx] = node{vector: vector, leafvec: leafvec, base0: uint32(base0) - 1, base1: base1 - 1}
	for v := vector; v != 0; v &= v - 1 {
		s := bits.TrailingZeros64(v)
		c.fill(base1, rs[from[s]:to[s]], d+stride, vals[s])
		base1++
	}
}
