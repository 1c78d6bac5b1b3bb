package reasm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// env is a Table with its rx pool and a drop callback that counts reasons
// and frees the buffers, as the engine's Ctx.Drop does.
type env struct {
	tb    testing.TB
	pool  *pkt.Pool
	cache *pkt.Cache
	tab   *Table
	drops [stats.NumReasons]int
	drop  func(*pkt.Buf, stats.Reason)
	now   int64
}

func newEnv(tb testing.TB, cfg Config) *env { return newEnvN(tb, cfg, 4096) }

// newEnvN is newEnv with an rx pool of n buffers.
func newEnvN(tb testing.TB, cfg Config, n int) *env {
	e := &env{tb: tb, pool: pkt.NewPool("rx", n, 0)}
	e.cache = e.pool.NewCache()
	e.tab = New(cfg, e.cache)
	e.now = 1e9
	e.drop = func(b *pkt.Buf, r stats.Reason) {
		e.drops[r]++
		e.cache.Put(b)
	}
	return e
}

// buf copies p into a fresh rx buffer.
func (e *env) buf(p []byte) *pkt.Buf {
	b := e.cache.Get()
	if b == nil || !b.SetBytes(p) {
		e.tb.Fatalf("no buffer for %d bytes", len(p))
	}
	return b
}

// add feeds one fragment.
func (e *env) add(p []byte) *pkt.Buf { return e.tab.Add(e.buf(p), e.now, e.drop) }

// feed adds every fragment and returns the datagrams that came out.
func (e *env) feed(frags [][]byte) []*pkt.Buf {
	var out []*pkt.Buf
	for _, f := range frags {
		if b := e.add(f); b != nil {
			out = append(out, b)
		}
		e.bounds()
	}
	return out
}

// bounds checks the Table's limits.
func (e *env) bounds() {
	c := e.tab.Config()
	if e.tab.Len() > c.MaxPackets || e.tab.Bytes() > c.MaxBytes || e.tab.Len() < 0 || e.tab.Bytes() < 0 {
		e.tb.Fatalf("bounds exceeded: %d datagrams, %d bytes (config %+v)", e.tab.Len(), e.tab.Bytes(), c)
	}
}

// dropped returns the total number of drops.
func (e *env) dropped() int {
	n := 0
	for _, d := range e.drops {
		n += d
	}
	return n
}

// finish expires everything and checks that every buffer went home.
func (e *env) finish() {
	e.tb.Helper()
	e.tab.Expire(math.MaxInt64, e.drop)
	if e.tab.Len() != 0 || e.tab.Bytes() != 0 {
		e.tb.Fatalf("table not empty: %d datagrams, %d bytes", e.tab.Len(), e.tab.Bytes())
	}
	if got := e.pool.Available() + e.cache.Len(); got != e.pool.Total() {
		e.tb.Fatalf("rx buffers: %d of %d back", got, e.pool.Total())
	}
	if got := e.tab.large.available(); got != e.tab.cfg.LargeBufs {
		e.tb.Fatalf("large buffers: %d of %d back", got, e.tab.cfg.LargeBufs)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func randFill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// dgram4 builds an IPv4 ESP datagram with the given options (a multiple of
// 4 bytes) and plen random payload bytes.
func dgram4(r *rand.Rand, plen int, opts []byte) []byte {
	hl := hdr.IPv4MinLen + len(opts)
	p := make([]byte, hl+plen)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(hl)
	ip.SetTotalLen(len(p))
	ip.SetID(uint16(r.Uint32()))
	ip.SetTTL(64)
	ip.SetProtocol(hdr.ProtoESP)
	ip.SetSrc([4]byte{192, 0, 2, byte(r.IntN(250) + 1)})
	ip.SetDst([4]byte{198, 51, 100, 1})
	copy(p[hdr.IPv4MinLen:], opts)
	randFill(r, p[hl:])
	ip.UpdateChecksum()
	return p
}

// copiedOpts returns the options with the copy bit, padded to 4 bytes.
func copiedOpts(ip hdr.IPv4) []byte {
	var out []byte
	ip.WalkOptions(func(typ uint8, opt []byte) bool {
		if typ&0x80 != 0 {
			out = append(out, opt...)
		}
		return true
	})
	for len(out)%4 != 0 {
		out = append(out, hdr.IPv4OptEnd)
	}
	return out
}

// piece4 cuts payload bytes [off, end) of orig into a fragment; non-first
// fragments carry only the options with the copy bit (RFC 791).
func piece4(orig []byte, off, end int, more bool) []byte {
	ip := hdr.IPv4(orig)
	hl := ip.HeaderLen()
	h := orig[:hl]
	if off > 0 {
		opts := copiedOpts(ip)
		h = append(append([]byte{}, orig[:hdr.IPv4MinLen]...), opts...)
	}
	p := append(append([]byte{}, h...), orig[hl+off:hl+end]...)
	f := hdr.IPv4(p)
	f.SetVersionIHL(len(h))
	f.SetTotalLen(len(p))
	ff := ip.FlagsFrag()&hdr.IPv4FlagDF | uint16(off/8)
	if more {
		ff |= hdr.IPv4FlagMF
	}
	f.SetFlagsFrag(ff)
	f.UpdateChecksum()
	return p
}

// frag4 fragments orig into pieces of chunk payload bytes (a multiple of 8).
func frag4(orig []byte, chunk int) [][]byte {
	ip := hdr.IPv4(orig)
	n := ip.TotalLen() - ip.HeaderLen()
	var out [][]byte
	for off := 0; off < n; off += chunk {
		end := min(off+chunk, n)
		out = append(out, piece4(orig, off, end, end < n))
	}
	return out
}

// ext6 is an IPv6 extension header for dgram6.
type ext6 struct {
	proto uint8
	len   int // multiple of 8
}

// v6 describes an IPv6 datagram built by dgram6.
type v6 struct {
	p       []byte
	unf     int // end of the per-fragment headers
	nextOff int // next-header field naming the first fragmentable header
}

// dgram6 builds an IPv6 datagram with the given extension headers, all
// unfragmentable, then an ESP payload of plen random bytes.
func dgram6(r *rand.Rand, plen int, exts ...ext6) v6 {
	unf := hdr.IPv6Len
	for _, x := range exts {
		unf += x.len
	}
	p := make([]byte, unf+plen)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0x12345)
	ip.SetPayloadLen(len(p) - hdr.IPv6Len)
	ip.SetHopLimit(64)
	p[8], p[9], p[23] = 0x20, 0x01, byte(r.IntN(250)+1)
	p[24], p[25], p[39] = 0x20, 0x01, 1
	off, nextOff := hdr.IPv6Len, 6
	for _, x := range exts {
		p[nextOff] = x.proto
		p[off+1] = uint8(x.len/8 - 1)
		if x.proto == hdr.ProtoHopByHop || x.proto == hdr.ProtoDstOpts {
			p[off+2], p[off+3] = 1, uint8(x.len-4) // PadN
		}
		if x.proto == hdr.ProtoRouting {
			p[off+2], p[off+3] = 4, 0 // type 4 (SRH-like), segments left 0
		}
		nextOff, off = off, off+x.len
	}
	p[nextOff] = hdr.ProtoESP
	randFill(r, p[unf:])
	return v6{p: p, unf: unf, nextOff: nextOff}
}

// piece6 cuts the fragmentable bytes [off, end) of d into a fragment with
// identification id. bare makes the per-fragment headers just the fixed
// header (as a sender whose headers changed might).
func piece6(d v6, id uint32, off, end int, more, bare bool) []byte {
	unf, nextOff := d.unf, d.nextOff
	if bare {
		unf, nextOff = hdr.IPv6Len, 6
	}
	p := make([]byte, 0, unf+8+end-off)
	p = append(p, d.p[:unf]...)
	nh := d.p[d.nextOff]
	p[nextOff] = hdr.ProtoFragment
	word := uint16(off)
	if more {
		word |= 1
	}
	p = append(p, nh, 0, byte(word>>8), byte(word), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(p[unf+4:], id)
	p = append(p, d.p[d.unf+off:d.unf+end]...)
	hdr.IPv6(p).SetPayloadLen(len(p) - hdr.IPv6Len)
	return p
}

// frag6 fragments d into pieces of chunk fragmentable bytes.
func frag6(d v6, id uint32, chunk int) [][]byte {
	n := len(d.p) - d.unf
	var out [][]byte
	for off := 0; off < n; off += chunk {
		end := min(off+chunk, n)
		out = append(out, piece6(d, id, off, end, end < n, false))
	}
	return out
}

// order returns frags in the named order.
func order(r *rand.Rand, frags [][]byte, how string) [][]byte {
	out := append([][]byte(nil), frags...)
	switch how {
	case "reverse":
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case "random":
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}
