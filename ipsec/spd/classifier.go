package spd

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync/atomic"
)

// hkey is a masked lookup key: addresses as big-endian word pairs, and
// x = proto<<32 | srcport<<16 | dstport. It doubles as a shape's mask.
type hkey struct{ s0, s1, d0, d1, x uint64 }

func (k hkey) and(m *hkey) hkey {
	return hkey{k.s0 & m.s0, k.s1 & m.s1, k.d0 & m.d0, k.d1 & m.d1, k.x & m.x}
}

// Hash constants (odd, well mixed).
const (
	hk0 = 0xa0761d6478bd642f
	hk1 = 0xe7037ed1a0b428db
	hk2 = 0x8ebc6af09c88c6e3
	hk3 = 0x589965cc75374cc3
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash mixes a masked key; IPv4 keys only have three live words.
func (k *hkey) hash(seed uint64, v6 bool) uint64 {
	h := mix(k.s0^k.d0>>32^hk0^seed, k.x^hk1)
	if v6 {
		h = mix(h^k.d0^hk2, k.s1^hk3)
		h = mix(h^k.d1^hk1, seed^hk2)
	}
	return h
}

// prefixMask returns the two words of a /n mask on 128 bits.
func prefixMask(n int) (hi, lo uint64) {
	switch {
	case n <= 0:
		return 0, 0
	case n < 64:
		return ^uint64(0) << (64 - n), 0
	case n < 128:
		return ^uint64(0), ^uint64(0) << (128 - n)
	}
	return ^uint64(0), ^uint64(0)
}

// Port dimension kinds of a shape.
const (
	portAny uint8 = iota
	portExact
	portRange // checked per node, not hashed
)

func portKind(r PortRange) uint8 {
	switch {
	case r.IsAny():
		return portAny
	case r.Lo == r.Hi:
		return portExact
	}
	return portRange
}

// shapeID is what policies of one hash table share.
type shapeID struct {
	sl, dl     uint8 // prefix lengths, in the 128-bit space
	protoExact bool
	sk, dk     uint8 // port kinds
}

func shapeOf(sel *Selector) shapeID {
	// IPv4 sits in the top bits of the 128-bit space: its lengths need no offset.
	return shapeID{
		sl: uint8(sel.Src.Bits()), dl: uint8(sel.Dst.Bits()),
		protoExact: sel.Proto != AnyProto,
		sk:         portKind(sel.SrcPort), dk: portKind(sel.DstPort),
	}
}

// mask builds the hash mask of a shape.
func (id shapeID) mask() (m hkey) {
	m.s0, m.s1 = prefixMask(int(id.sl))
	m.d0, m.d1 = prefixMask(int(id.dl))
	if id.protoExact {
		m.x |= 0xff << 32
	}
	if id.sk == portExact {
		m.x |= 0xffff << 16
	}
	if id.dk == portExact {
		m.x |= 0xffff
	}
	return m
}

// keyWords loads a packet key as unmasked words.
func keyWords(k *Key) hkey {
	return hkey{
		s0: binary.BigEndian.Uint64(k.Src[0:]), s1: binary.BigEndian.Uint64(k.Src[8:]),
		d0: binary.BigEndian.Uint64(k.Dst[0:]), d1: binary.BigEndian.Uint64(k.Dst[8:]),
		x: uint64(k.Proto)<<32 | uint64(k.SrcPort)<<16 | uint64(k.DstPort),
	}
}

// selectorWords is the (unmasked) key of a selector's exact values.
func selectorWords(sel *Selector) hkey {
	k := KeyFor(sel.Src.Addr(), sel.Dst.Addr(), uint8(max(sel.Proto, 0)), sel.SrcPort.Lo, sel.DstPort.Lo)
	return keyWords(&k)
}

// node is one policy in a hash chain. Nodes are immutable once published;
// a chain keeps nodes of equal key in lookup order.
type node struct {
	next   *node
	k      hkey
	p      *Policy
	sp, dp PortRange
}

// table is a shape's hash table of immutable chains; writers replace one
// chain head at a time (path copy), or the whole table when it grows.
type table struct {
	mask  uint64
	heads []atomic.Pointer[node]
}

func newTable(size int) *table {
	return &table{mask: uint64(size - 1), heads: make([]atomic.Pointer[node], size)}
}

// shape is one tuple-space partition: a hash table of the policies that
// share prefix lengths, protocol and port kinds.
type shape struct {
	id  shapeID
	m   hkey
	tab atomic.Pointer[table]
	// writer-only:
	n     int
	bound *Policy // no policy of the shape precedes it (optimistic)
}

// ref is a shape in a class's probe list with a snapshot of its bound.
type ref struct {
	s     *shape
	prio  int32
	seq   uint64
	ports bool // the shape needs ports (skipped for opaque keys)
}

// class is the classifier of one direction and address family.
type class struct {
	list atomic.Pointer[[]ref] // probe order: best bound first
	// writer-only:
	v6     bool
	shapes map[shapeID]*shape
}

// lookup returns the first policy in order matching k, or nil.
func (c *class) lookup(k *Key, seed uint64) *Policy {
	lp := c.list.Load()
	if lp == nil {
		return nil
	}
	q := keyWords(k)
	sport, dport := k.SrcPort, k.DstPort
	var best *Policy
	for i := range *lp {
		r := &(*lp)[i]
		if best != nil && (r.prio < best.Priority || r.prio == best.Priority && r.seq >= best.Seq) {
			break
		}
		if r.ports && k.Opaque {
			continue
		}
		sh := r.s
		m := q.and(&sh.m)
		t := sh.tab.Load()
		for n := t.heads[m.hash(seed, c.v6)&t.mask].Load(); n != nil; n = n.next {
			if n.k == m && n.sp.Contains(sport) && n.dp.Contains(dport) {
				if best == nil || before(n.p, best) {
					best = n.p
				}
				break
			}
		}
	}
	return best
}

// find returns the installed policy with exactly this (normalized)
// selector, or nil (writer).
func (w *writer) find(c *class, sel *Selector) *Policy {
	sh := c.shapes[shapeOf(sel)]
	if sh == nil {
		return nil
	}
	sw := selectorWords(sel)
	k := sw.and(&sh.m)
	t := sh.tab.Load()
	for n := t.heads[k.hash(w.seed, c.v6)&t.mask].Load(); n != nil; n = n.next {
		if n.k == k && n.p.Selector == *sel {
			return n.p
		}
	}
	return nil
}

// publish rebuilds the probe list (writer).
func (c *class) publish() {
	l := make([]ref, 0, len(c.shapes))
	for _, s := range c.shapes {
		l = append(l, ref{s: s, prio: s.bound.Priority, seq: s.bound.Seq,
			ports: s.id.sk != portAny || s.id.dk != portAny})
	}
	slices.SortFunc(l, func(a, b ref) int {
		switch {
		case a.prio != b.prio:
			if a.prio > b.prio {
				return -1
			}
			return 1
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	c.list.Store(&l)
}

// writer is the Store's mutable classifier state, guarded by its mutex.
type writer struct {
	seed    uint64
	scratch []*node
	seq     []*node
}

// insert adds p (validated, normalized) to its class (writer).
func (w *writer) insert(c *class, p *Policy) {
	id := shapeOf(&p.Selector)
	sh := c.shapes[id]
	fresh := sh == nil
	if fresh {
		sh = &shape{id: id, m: id.mask()}
		sh.tab.Store(newTable(8))
		if c.shapes == nil {
			c.shapes = make(map[shapeID]*shape)
		}
	}
	nd := &node{p: p, sp: p.Selector.SrcPort, dp: p.Selector.DstPort}
	sw := selectorWords(&p.Selector)
	nd.k = sw.and(&sh.m)
	// Raise the bound before the node appears: an optimistic bound costs
	// a probe, a pessimistic one would hide the node.
	if fresh || before(p, sh.bound) {
		sh.bound = p
		c.shapes[id] = sh
		c.publish()
	}
	t := sh.tab.Load()
	if sh.n >= len(t.heads) {
		t = w.resize(sh, t, 2*len(t.heads), c.v6)
	}
	w.rewrite(t, nd.k.hash(w.seed, c.v6)&t.mask, nil, nd)
	sh.n++
}

// remove takes p out of its class (writer).
func (w *writer) remove(c *class, p *Policy) {
	id := shapeOf(&p.Selector)
	sh := c.shapes[id]
	k := selectorWords(&p.Selector)
	k = k.and(&sh.m)
	t := sh.tab.Load()
	w.rewrite(t, k.hash(w.seed, c.v6)&t.mask, p, nil)
	sh.n--
	if sh.n == 0 {
		delete(c.shapes, id)
		c.publish()
		return
	}
	if n := len(t.heads); n > 8 && sh.n < n/4 {
		t = w.resize(sh, t, n/2, c.v6)
	}
	w.tighten(c, sh, t, p)
}

// replace swaps old for p, which has the same selector, in one publication.
func (w *writer) replace(c *class, old, p *Policy) {
	sh := c.shapes[shapeOf(&p.Selector)]
	nd := &node{p: p, sp: p.Selector.SrcPort, dp: p.Selector.DstPort}
	sw := selectorWords(&p.Selector)
	nd.k = sw.and(&sh.m)
	raise := before(p, sh.bound)
	if raise {
		sh.bound = p
		c.publish()
	}
	t := sh.tab.Load()
	w.rewrite(t, nd.k.hash(w.seed, c.v6)&t.mask, old, nd)
	if !raise {
		w.tighten(c, sh, t, old)
	}
}

// tighten recomputes the bound of a small shape after gone, its bound,
// left. A big shape keeps the stale bound: optimistic bounds cost probes,
// never correctness.
func (w *writer) tighten(c *class, sh *shape, t *table, gone *Policy) {
	if sh.bound == gone && len(t.heads) <= 4096 {
		sh.bound = w.best(t)
		c.publish()
	}
}

// best scans a table for its first policy in order.
func (w *writer) best(t *table) *Policy {
	var b *Policy
	for i := range t.heads {
		for n := t.heads[i].Load(); n != nil; n = n.next {
			if b == nil || before(n.p, b) {
				b = n.p
			}
		}
	}
	return b
}

// rewrite publishes bucket i of t without del and with add, keeping equal
// keys in lookup order; the unchanged tail of the chain is shared.
func (w *writer) rewrite(t *table, i uint64, del *Policy, add *node) {
	chain := w.scratch[:0]
	for n := t.heads[i].Load(); n != nil; n = n.next {
		chain = append(chain, n)
	}
	seq := w.seq[:0]
	for _, n := range chain {
		if n.p != del {
			seq = append(seq, n)
		}
	}
	if add != nil {
		pos := 0
		for j, n := range seq {
			if n.k == add.k {
				if before(add.p, n.p) {
					pos = j
					break
				}
				pos = j + 1
			}
		}
		seq = slices.Insert(seq, pos, add)
	}
	// Share the longest common suffix; copy what precedes it.
	a, b := len(chain)-1, len(seq)-1
	for a >= 0 && b >= 0 && chain[a] == seq[b] {
		a, b = a-1, b-1
	}
	var next *node
	if b+1 < len(seq) {
		next = seq[b+1]
	}
	for ; b >= 0; b-- {
		n := seq[b]
		if n != add {
			c := *n
			n = &c
		}
		n.next = next
		next = n
	}
	t.heads[i].Store(next)
	clear(chain)
	clear(seq)
	w.scratch, w.seq = chain[:0], seq[:0]
}

// resize publishes a copy of t with size heads (writer). Keys never span
// chains, and copying old chains back to front (last bucket first) onto
// the new heads keeps equal keys in lookup order.
func (w *writer) resize(sh *shape, t *table, size int, v6 bool) *table {
	nt := newTable(size)
	for i := len(t.heads) - 1; i >= 0; i-- {
		chain := w.scratch[:0]
		for n := t.heads[i].Load(); n != nil; n = n.next {
			chain = append(chain, n)
		}
		for j := len(chain) - 1; j >= 0; j-- {
			c := *chain[j]
			h := &nt.heads[c.k.hash(w.seed, v6)&nt.mask]
			c.next = h.Load()
			h.Store(&c)
		}
		clear(chain)
		w.scratch = chain[:0]
	}
	sh.tab.Store(nt)
	return nt
}
