package reasm

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Defaults and hard limits for Config.
const (
	// DefaultMaxPackets is the default number of datagrams in reassembly.
	DefaultMaxPackets = 1024
	// DefaultMaxFrags is the default fragment count per datagram: a
	// 65535-byte datagram over a 1280-byte IPv6 MTU needs 53.
	DefaultMaxFrags = 64
	// DefaultMaxBytes is the default memory held in fragments per core.
	DefaultMaxBytes = 4 << 20
	// DefaultTimeout is the default reassembly timeout, for both families.
	DefaultTimeout = 3 * time.Second
	// DefaultLargeBufs is the default number of large output buffers:
	// two bursts' worth (about 4.3 MiB per core with the default MaxSize).
	DefaultLargeBufs = 2 * pkt.BurstSize
	// MaxSizeLimit is the largest datagram either family can describe:
	// a 65535-byte IPv6 payload plus the fixed header (IPv4 stops at 65535).
	MaxSizeLimit = 65535 + hdr.IPv6Len

	maxV4         = 65535
	maxFragsLimit = 8192 // 65536 / 8: more fragments cannot be disjoint
	maxPackets    = 1 << 20
	minSize       = hdr.IPv6Len + 8
	smallTailroom = 320 // as pkt.DefaultSize: ESP padding, trailer, ICV
	largeTailroom = 512
)

// Config bounds one Table. Zero fields take the defaults.
type Config struct {
	// MaxPackets is the number of datagrams in reassembly at once; a new
	// one evicts the oldest when the table is full (default 1024).
	MaxPackets int
	// MaxFrags is the number of fragments one datagram may have; one more
	// drops the datagram (default 64).
	MaxFrags int
	// MaxBytes bounds the buffer memory (Buf.Cap) held in fragments; the
	// oldest datagrams are evicted to make room (default 4 MiB).
	MaxBytes int
	// Timeout is how long a datagram may wait for its fragments, from the
	// first one (default 3 s for both families: fragments of one datagram
	// arrive within milliseconds, a short timeout limits the state an
	// attacker can pin and IPv4 ID wraparound; RFC 8200's 60 s is an upper
	// bound and RFC 791's 15 s a suggestion).
	Timeout time.Duration
	// MaxSize is the largest reassembled datagram in bytes, IP header
	// included (default and maximum 65575: a full IPv6 payload; IPv4 is
	// further limited to 65535 by its total length field).
	MaxSize int
	// LargeBufs is the number of output buffers of MaxSize (plus headroom
	// and tailroom) the Table owns for datagrams that do not fit a buffer
	// of the caller's cache (default 64: a burst's worth held downstream
	// while the next burst is reassembled).
	LargeBufs int
}

// withDefaults fills zero fields and clamps the rest to sane ranges.
func (c Config) withDefaults() Config {
	if c.MaxPackets <= 0 {
		c.MaxPackets = DefaultMaxPackets
	}
	c.MaxPackets = min(c.MaxPackets, maxPackets)
	if c.MaxFrags <= 0 {
		c.MaxFrags = DefaultMaxFrags
	}
	c.MaxFrags = min(c.MaxFrags, maxFragsLimit)
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxSize <= 0 || c.MaxSize > MaxSizeLimit {
		c.MaxSize = MaxSizeLimit
	}
	c.MaxSize = max(c.MaxSize, minSize)
	if c.LargeBufs <= 0 {
		c.LargeBufs = DefaultLargeBufs
	}
	return c
}

// Counters tell the Table's outcomes apart (the drop callback only sees
// stats reasons). They are per Table, written by its core.
type Counters struct {
	Reassembled uint64 // datagrams completed and returned
	Atomic      uint64 // IPv6 atomic fragments passed through
	Duplicates  uint64 // exact duplicate fragments dropped alone
	Overlaps    uint64 // datagrams dropped for overlapping fragments
	Malformed   uint64 // fragments or datagrams dropped as malformed
	TooMany     uint64 // datagrams dropped for more than MaxFrags fragments
	TooBig      uint64 // datagrams dropped for exceeding MaxSize
	Evicted     uint64 // datagrams evicted for MaxPackets or MaxBytes
	TimedOut    uint64 // datagrams abandoned after Timeout
	NoBuffer    uint64 // complete datagrams dropped for lack of an output buffer
}

// key identifies a datagram: src (0:16), dst (16:32), identification
// (32:36), protocol (36, IPv4 only) and family (37).
type key [38]byte

// frag is one held fragment.
type frag struct {
	b        *pkt.Buf
	off, end int32 // range in the fragmentable part
	data     int32 // start of the fragment's payload in b.Bytes()
}

// dgram is one datagram in reassembly.
type dgram struct {
	key        key
	hnext      int32 // next slot in the hash chain
	prev, next int32 // age list, oldest first
	deadline   int64
	frags      []frag // sorted by offset; cap MaxFrags (a window on the slab)
	got        int    // fragmentable bytes held
	total      int    // fragmentable length once the last fragment came, else -1
	maxEnd     int    // highest end seen
	hlen       int    // header length of the offset-0 fragment (v6: unfragmentable part), 0 until seen
	nextOff    int    // v6: offset of the next-header field naming the Fragment header
	nh         uint8  // v6: the first fragment's Fragment header's next header
	v6         bool
	ecn        uint8 // bit set of the ECN codepoints seen
	truesize   int
}

// Table reassembles the fragments of one core. It is not safe for
// concurrent use.
type Table struct {
	cfg      Config
	cache    *pkt.Cache
	large    *largeSet
	seed     maphash.Seed
	buckets  []int32 // hash index: first slot of each chain, -1 empty
	mask     uint64
	dgs      []dgram
	free     []int32 // free slots
	head     int32   // oldest datagram (-1: none)
	tail     int32   // newest datagram
	n        int
	bytes    int
	timeout  int64
	limit4   int
	limit6   int
	smallCap int // largest datagram that fits a buffer of the cache
	ctr      Counters
}

// New makes a Table; fragments it consumes go back to cache (nil: Buf.Free)
// and small reassembled datagrams are built in buffers from it.
func New(cfg Config, cache *pkt.Cache) *Table {
	cfg = cfg.withDefaults()
	t := &Table{
		cfg:     cfg,
		cache:   cache,
		seed:    maphash.MakeSeed(),
		dgs:     make([]dgram, cfg.MaxPackets),
		free:    make([]int32, cfg.MaxPackets),
		head:    -1,
		tail:    -1,
		timeout: cfg.Timeout.Nanoseconds(),
		limit4:  min(cfg.MaxSize, maxV4),
		limit6:  cfg.MaxSize,
	}
	nb := 1
	for nb < 2*cfg.MaxPackets {
		nb <<= 1
	}
	t.buckets = make([]int32, nb)
	for i := range t.buckets {
		t.buckets[i] = -1
	}
	t.mask = uint64(nb - 1)
	slab := make([]frag, cfg.MaxPackets*cfg.MaxFrags)
	for i := range t.dgs {
		t.dgs[i].frags = slab[i*cfg.MaxFrags : i*cfg.MaxFrags : (i+1)*cfg.MaxFrags]
		t.free[i] = int32(cfg.MaxPackets - 1 - i)
	}
	if cache != nil {
		t.smallCap = cache.Pool().BufSize() - pkt.Headroom - smallTailroom
	}
	t.large = newLargeSet(cfg.LargeBufs, pkt.Headroom+cfg.MaxSize+largeTailroom)
	return t
}

// Config returns the Table's configuration with the defaults filled in.
func (t *Table) Config() Config { return t.cfg }

// Len returns the number of datagrams in reassembly.
func (t *Table) Len() int { return t.n }

// Bytes returns the buffer memory (sum of Buf.Cap) held in fragments.
func (t *Table) Bytes() int { return t.bytes }

// Counters returns the Table's outcome counters.
func (t *Table) Counters() Counters { return t.ctr }

// IsFragment reports whether the IP packet ip is a fragment: IPv4 with MF
// set or a non-zero offset, IPv6 with a Fragment header.
func IsFragment(ip []byte) bool {
	if len(ip) == 0 {
		return false
	}
	switch ip[0] >> 4 {
	case 4:
		return len(ip) >= hdr.IPv4MinLen && hdr.IPv4(ip).IsFragment()
	case 6:
		v6 := hdr.IPv6(ip)
		if len(ip) < hdr.IPv6Len {
			return false
		}
		n := min(len(ip), hdr.IPv6Len+v6.PayloadLen())
		c, _ := v6.Walk(n)
		return c.Frag != 0
	}
	return false
}

// fragInfo is what Add learns from one fragment's headers.
type fragInfo struct {
	key      key
	v6       bool
	off, end int  // range in the fragmentable part
	data     int  // payload start in the Buf
	more     bool // M / MF
	hlen     int  // header (v6: unfragmentable part) length
	nextOff  int  // v6: next-header field naming the Fragment header
	nh       uint8
	ecn      uint8
}

// Add takes ownership of fragment b (data at a validated IP header) and
// returns the reassembled datagram when b completes one, b itself when it
// is not a fragment (or an IPv6 atomic fragment, with its Fragment header
// removed), or nil when more fragments are needed or b was dropped through
// drop. now is a monotonic time in nanoseconds.
func (t *Table) Add(b *pkt.Buf, now int64, drop func(*pkt.Buf, stats.Reason)) *pkt.Buf {
	if t.head >= 0 && t.dgs[t.head].deadline <= now {
		t.Expire(now, drop)
	}
	p := b.Bytes()
	if len(p) == 0 {
		drop(b, stats.ReasonIPTruncated)
		return nil
	}
	var fi fragInfo
	switch p[0] >> 4 {
	case 4:
		ip := hdr.IPv4(p)
		if !ip.IsValid(len(p)) {
			drop(b, stats.ReasonIPTruncated)
			return nil
		}
		if !ip.IsFragment() {
			return b
		}
		tl, hl := ip.TotalLen(), ip.HeaderLen()
		b.SetLen(tl) // drop link-layer padding
		ff := ip.FlagsFrag()
		fi.off = int(ff&hdr.IPv4FragOffMask) * 8
		fi.end = fi.off + tl - hl
		fi.data, fi.hlen = hl, hl
		fi.more = ff&hdr.IPv4FlagMF != 0
		fi.ecn = ip.TOS() & 3
		copy(fi.key[0:4], p[12:16])
		copy(fi.key[16:20], p[16:20])
		fi.key[32], fi.key[33] = p[4], p[5]
		fi.key[36] = ip.Protocol()
		fi.key[37] = 4
	case 6:
		ip := hdr.IPv6(p)
		if !ip.IsValid(len(p)) {
			drop(b, stats.ReasonIPTruncated)
			return nil
		}
		n := hdr.IPv6Len + ip.PayloadLen()
		b.SetLen(n)
		p = p[:n]
		c, ok := ip.Walk(n)
		if c.Frag == 0 {
			if !ok {
				drop(b, stats.ReasonIPv6BadExtHdr)
				return nil
			}
			return b
		}
		f := c.Frag
		prev, pok := fragPrev(p, f)
		if !pok {
			t.ctr.Malformed++
			drop(b, stats.ReasonIPFragment) // a second Fragment header
			return nil
		}
		word := binary.BigEndian.Uint16(p[f+2:])
		fi.off = int(word & 0xfff8)
		fi.more = word&1 != 0
		if fi.off == 0 && !fi.more {
			return t.atomic(b, f, prev, ok, drop)
		}
		if fi.off == 0 && (!ok || c.Off+upperLen(c.Proto) > n) {
			t.ctr.Malformed++
			drop(b, stats.ReasonIPFragment) // RFC 7112: chain not in the first fragment
			return nil
		}
		fi.v6 = true
		fi.data = f + 8
		fi.end = fi.off + n - fi.data
		fi.hlen, fi.nextOff, fi.nh = f, prev, p[f]
		fi.ecn = ip.TrafficClass() & 3
		copy(fi.key[0:32], p[8:40])
		copy(fi.key[32:36], p[f+4:f+8])
		fi.key[37] = 6
	default:
		drop(b, stats.ReasonIPBadVersion)
		return nil
	}
	if fi.end == fi.off || (fi.more && (fi.end-fi.off)&7 != 0) {
		t.ctr.Malformed++
		drop(b, stats.ReasonIPFragment)
		return nil
	}
	return t.insert(b, &fi, now, drop)
}

// upperLen is the least the first fragment must hold of the upper-layer
// header (RFC 7112) for the protocols the router looks into.
func upperLen(proto uint8) int {
	switch proto {
	case hdr.ProtoTCP:
		return 20
	case hdr.ProtoAH:
		return 12
	case hdr.ProtoUDP, hdr.ProtoESP, hdr.ProtoICMPv6:
		return 8
	}
	return 0
}

// fragPrev returns the offset of the next-header field that names the
// Fragment header at f, walking a chain Walk has validated; false when
// another Fragment header comes first.
func fragPrev(p []byte, f int) (int, bool) {
	proto, off, nextOff := p[6], hdr.IPv6Len, 6
	for off < f {
		if proto == hdr.ProtoFragment || !hdr.IsExtension(proto) {
			return 0, false
		}
		nextOff, proto = off, p[off]
		off += (int(p[off+1]) + 1) * 8
	}
	return nextOff, off == f && proto == hdr.ProtoFragment
}

// atomic strips the Fragment header of an IPv6 atomic fragment in place
// (RFC 6946) and returns the packet.
func (t *Table) atomic(b *pkt.Buf, f, prev int, ok bool, drop func(*pkt.Buf, stats.Reason)) *pkt.Buf {
	if !ok {
		drop(b, stats.ReasonIPv6BadExtHdr)
		return nil
	}
	p := b.Bytes()
	p[prev] = p[f]
	copy(p[8:f+8], p[:f])
	b.TrimFront(8)
	hdr.IPv6(b.Bytes()).SetPayloadLen(b.Len() - hdr.IPv6Len)
	b.Meta.L4Proto, b.Meta.L4Off = 0, 0
	t.ctr.Atomic++
	return b
}

// hash returns the index bucket for k.
func (t *Table) hash(k *key) int {
	return int(maphash.Bytes(t.seed, k[:]) & t.mask)
}

// lookup returns the slot of datagram k in bucket h, or -1.
func (t *Table) lookup(k *key, h int) int32 {
	for i := t.buckets[h]; i >= 0; i = t.dgs[i].hnext {
		if t.dgs[i].key == *k {
			return i
		}
	}
	return -1
}

// insert adds a parsed fragment to its datagram and completes it when it can.
func (t *Table) insert(b *pkt.Buf, fi *fragInfo, now int64, drop func(*pkt.Buf, stats.Reason)) *pkt.Buf {
	h := t.hash(&fi.key)
	idx := t.lookup(&fi.key, h)
	limit, minHdr := t.limit4, hdr.IPv4MinLen
	if fi.v6 {
		limit, minHdr = t.limit6, hdr.IPv6Len
	}
	if minHdr+fi.end > limit {
		// Too big whatever the header: never open a datagram (and evict
		// another) for it, and drop the one it belongs to.
		t.ctr.TooBig++
		if idx >= 0 {
			return t.reject(idx, b, stats.ReasonIPFragment, drop)
		}
		drop(b, stats.ReasonIPFragment)
		return nil
	}
	if idx < 0 {
		idx = t.alloc(&fi.key, h, fi.v6, now, drop)
	}
	dg := &t.dgs[idx]

	// Length consistency with the last fragment.
	if (!fi.more && ((dg.total >= 0 && dg.total != fi.end) || dg.maxEnd > fi.end)) ||
		(fi.more && dg.total >= 0 && fi.end >= dg.total) {
		t.ctr.Malformed++
		return t.reject(idx, b, stats.ReasonIPFragment, drop)
	}

	// Position, exact duplicates, overlaps.
	fr := dg.frags
	off, end := int32(fi.off), int32(fi.end)
	i := len(fr)
	for i > 0 && fr[i-1].off >= off {
		i--
	}
	if i < len(fr) && fr[i].off == off && fr[i].end == end {
		held := fr[i].b.Bytes()[fr[i].data:]
		if bytes.Equal(held, b.Bytes()[fi.data:]) {
			t.ctr.Duplicates++
			drop(b, stats.ReasonIPFragment)
			return nil
		}
		t.ctr.Overlaps++
		return t.reject(idx, b, stats.ReasonIPFragment, drop)
	}
	if (i > 0 && fr[i-1].end > off) || (i < len(fr) && fr[i].off < end) {
		t.ctr.Overlaps++
		return t.reject(idx, b, stats.ReasonIPFragment, drop)
	}
	if len(fr) == cap(fr) {
		t.ctr.TooMany++
		return t.reject(idx, b, stats.ReasonIPFragment, drop)
	}

	// Size of the whole datagram, once its header length is known.
	hlen := dg.hlen
	if fi.off == 0 {
		hlen = fi.hlen
	}
	if hlen > 0 && hlen+max(dg.maxEnd, fi.end) > limit {
		t.ctr.TooBig++
		return t.reject(idx, b, stats.ReasonIPFragment, drop)
	}

	// Memory: evict the oldest other datagrams to make room.
	ts := b.Cap()
	for t.bytes+ts > t.cfg.MaxBytes {
		v := t.head
		if v == idx {
			v = t.dgs[v].next
		}
		if v < 0 {
			return t.reject(idx, b, stats.ReasonNoBuffer, drop)
		}
		t.ctr.Evicted++
		t.kill(v, stats.ReasonNoBuffer, drop)
	}

	fr = fr[:len(fr)+1]
	copy(fr[i+1:], fr[i:])
	fr[i] = frag{b: b, off: off, end: end, data: int32(fi.data)}
	dg.frags = fr
	dg.got += fi.end - fi.off
	dg.maxEnd = max(dg.maxEnd, fi.end)
	dg.truesize += ts
	t.bytes += ts
	dg.ecn |= 1 << fi.ecn
	if !fi.more {
		dg.total = fi.end
	}
	if fi.off == 0 {
		dg.hlen, dg.nextOff, dg.nh = fi.hlen, fi.nextOff, fi.nh
	}
	if dg.total < 0 || dg.got != dg.total {
		return nil
	}
	return t.complete(idx, drop)
}

// ECN codepoints as bits of dgram.ecn.
const (
	ecnNotECT = 1 << 0
	ecnCE     = 1 << 3
)

// complete builds the reassembled datagram of slot idx, whose fragments
// cover [0, total) without gaps, and frees the slot.
func (t *Table) complete(idx int32, drop func(*pkt.Buf, stats.Reason)) *pkt.Buf {
	dg := &t.dgs[idx]
	if dg.ecn&ecnNotECT != 0 && dg.ecn != ecnNotECT {
		t.ctr.Malformed++
		t.kill(idx, stats.ReasonIPFragment, drop)
		return nil
	}
	size := dg.hlen + dg.total
	var out *pkt.Buf
	if size <= t.smallCap {
		out = t.cache.Get()
	}
	if out == nil {
		out = t.large.get()
	}
	if out == nil {
		t.ctr.NoBuffer++
		t.kill(idx, stats.ReasonNoBuffer, drop)
		return nil
	}
	out.ResetAt(pkt.Headroom)
	dst := out.Append(size)
	first := dg.frags[0].b
	copy(dst, first.Bytes()[:dg.hlen])
	for _, f := range dg.frags {
		copy(dst[dg.hlen+int(f.off):], f.b.Bytes()[f.data:])
	}
	out.Meta = first.Meta
	out.Meta.L4Proto, out.Meta.L4Off = 0, 0
	ce := dg.ecn&ecnCE != 0
	if dg.v6 {
		ip := hdr.IPv6(dst)
		dst[dg.nextOff] = dg.nh
		ip.SetPayloadLen(size - hdr.IPv6Len)
		if ce {
			ip.SetTrafficClass(ip.TrafficClass() | 3)
		}
	} else {
		ip := hdr.IPv4(dst)
		ip.SetTotalLen(size)
		ip.SetFlagsFrag(ip.FlagsFrag() &^ (hdr.IPv4FlagMF | hdr.IPv4FragOffMask))
		if ce {
			ip.SetTOS(ip.TOS() | 3)
		}
		ip.UpdateChecksum()
	}
	for i := range dg.frags {
		t.put(dg.frags[i].b)
	}
	t.ctr.Reassembled++
	t.release(idx)
	return out
}

// reject drops fragment b and the whole datagram of slot idx.
func (t *Table) reject(idx int32, b *pkt.Buf, r stats.Reason, drop func(*pkt.Buf, stats.Reason)) *pkt.Buf {
	drop(b, r)
	t.kill(idx, r, drop)
	return nil
}

// put frees a consumed fragment.
func (t *Table) put(b *pkt.Buf) {
	if t.cache != nil {
		t.cache.Put(b)
		return
	}
	b.Free()
}

// Expire drops the datagrams whose timeout has passed at now and returns
// how many; call it from the core's timer.
func (t *Table) Expire(now int64, drop func(*pkt.Buf, stats.Reason)) int {
	n := 0
	for t.head >= 0 && t.dgs[t.head].deadline <= now {
		t.ctr.TimedOut++
		t.kill(t.head, stats.ReasonIPFragment, drop)
		n++
	}
	return n
}

// alloc takes a free slot for datagram k (evicting the oldest datagram
// when none is free) and links it into the index and the age list.
func (t *Table) alloc(k *key, h int, v6 bool, now int64, drop func(*pkt.Buf, stats.Reason)) int32 {
	if len(t.free) == 0 {
		t.ctr.Evicted++
		t.kill(t.head, stats.ReasonNoBuffer, drop)
	}
	idx := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	dg := &t.dgs[idx]
	dg.key = *k
	dg.v6 = v6
	dg.frags = dg.frags[:0]
	dg.got, dg.total, dg.maxEnd, dg.hlen, dg.nextOff, dg.nh = 0, -1, 0, 0, 0, 0
	dg.ecn, dg.truesize = 0, 0
	dg.deadline = now + t.timeout
	if now > math.MaxInt64-t.timeout {
		dg.deadline = math.MaxInt64
	}
	dg.hnext = t.buckets[h]
	t.buckets[h] = idx
	dg.prev, dg.next = t.tail, -1
	if t.tail >= 0 {
		t.dgs[t.tail].next = idx
	} else {
		t.head = idx
	}
	t.tail = idx
	t.n++
	return idx
}

// kill drops every fragment of slot idx for reason r and frees the slot.
func (t *Table) kill(idx int32, r stats.Reason, drop func(*pkt.Buf, stats.Reason)) {
	dg := &t.dgs[idx]
	for i := range dg.frags {
		drop(dg.frags[i].b, r)
	}
	t.release(idx)
}

// release unlinks slot idx, forgets its fragments and frees it.
func (t *Table) release(idx int32) {
	dg := &t.dgs[idx]
	clear(dg.frags)
	dg.frags = dg.frags[:0]
	t.bytes -= dg.truesize
	dg.truesize = 0
	h := t.hash(&dg.key)
	if t.buckets[h] == idx {
		t.buckets[h] = dg.hnext
	} else {
		for i := t.buckets[h]; i >= 0; i = t.dgs[i].hnext {
			if t.dgs[i].hnext == idx {
				t.dgs[i].hnext = dg.hnext
				break
			}
		}
	}
	if dg.prev >= 0 {
		t.dgs[dg.prev].next = dg.next
	} else {
		t.head = dg.next
	}
	if dg.next >= 0 {
		t.dgs[dg.next].prev = dg.prev
	} else {
		t.tail = dg.prev
	}
	dg.hnext, dg.prev, dg.next = -1, -1, -1
	t.free = append(t.free, idx)
	t.n--
}
