package ah

import (
	"math/rand/v2"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
	"github.com/fastipsec/fastipsec/ipsec/xform"
)

// Options are the run-time knobs, loaded once per burst by the caller.
type Options struct {
	tunnel.Outer
	// ClearTOS is net.inet.ipsec.ah_cleartos: zero the IPv4 TOS in the
	// ICV computation (FreeBSD's default; RFC 4302 says it is mutable).
	ClearTOS bool
	// OffsetMask is net.inet.ipsec.ah_offsetmask, ANDed with the IPv4
	// flags and fragment offset in the ICV computation (0: all zeroed).
	OffsetMask uint16
}

// Expiry is a lifetime an SA crossed during the last Encap or Decap.
type Expiry = xform.Expiry

// Processor is one core's AH worker; not safe for concurrent use.
type Processor struct {
	eng   alg.Engine
	ops   []alg.Op
	w     []work
	books xform.Books // runs, sequence numbers, lifetimes, expiries
	save  []byte      // copies of the headers in front of AH, by work.save
	ipID  uint16      // outer IPv4 identification, per core
}

// work is one packet's plan and state within a burst.
type work struct {
	op    int    // index in Processor.ops, -1 without one
	ah    int    // offset of the AH header
	ahLen int    // AH header length with IV, ICV and padding
	end   int    // decap: end of the packet
	hdr   int    // transport: bytes of IP header kept in front of AH
	next  int    // transport: offset of the next-header field to patch
	front int    // encap: bytes added in front
	nh    uint8  // next header after AH
	clear int    // clear packet length, for byte lifetimes
	seq   uint64 // full sequence number
	save  int    // offset of the saved headers in Processor.save
	seqHi bool   // GMAC with ESN: SeqHi written after the packet
	aside bool   // decap: the received ICV is in icv, its field zeroed
	v6    bool   // the outer packet is IPv6
	icv   [32]byte
}

// NewProcessor returns a worker that runs its crypto on eng.
func NewProcessor(eng alg.Engine) *Processor {
	const n = 4 * pkt.BurstSize
	return &Processor{
		eng:  eng,
		ops:  make([]alg.Op, 0, n),
		w:    make([]work, n),
		save: make([]byte, 0, n*64),
		ipID: uint16(rand.Uint32()),
	}
}

// Expired lists the lifetimes crossed during the last Encap or Decap call;
// the slice is reused by the next call.
func (p *Processor) Expired() []Expiry { return p.books.Expired() }

// HeaderLen is the AH header length an SA's packets carry: 12 bytes, the
// GMAC IV, the ICV, padded to 32 bits (IPv4) or 64 bits (IPv6).
func HeaderLen(sa *sad.SA, v6 bool) int {
	n := 12 + sa.Sess.IVLen() + sa.Sess.ICVLen()
	align := 4
	if v6 {
		align = 8
	}
	return (n + align - 1) / align * align
}

func (p *Processor) begin(n int) {
	if cap(p.w) < n {
		p.w = make([]work, n)
	}
	p.w = p.w[:n]
	p.ops = p.ops[:0]
	p.books.Begin()
	p.save = p.save[:0]
}

func (p *Processor) addOp(i int) *alg.Op {
	p.w[i].op = len(p.ops)
	p.ops = append(p.ops, alg.Op{})
	return &p.ops[len(p.ops)-1]
}

func (p *Processor) done() {
	clear(p.ops)
	p.ops = p.ops[:0]
}

// saveHeaders copies data[:n] into the arena and returns its offset.
func (p *Processor) saveHeaders(data []byte, n int) int {
	off := len(p.save)
	p.save = append(p.save, data[:n]...)
	return off
}

// restore puts packet i's saved headers back.
func (p *Processor) restore(w *work, data []byte) {
	copy(data[:w.ah], p.save[w.save:w.save+w.ah])
}

// account charges each run's successes to its SA's lifetimes and counts
// its drops; it returns the number of successes.
func (p *Processor) account(sas []*sad.SA, runs []int, res []stats.Reason) int {
	ok, i := 0, 0
	for _, j := range runs {
		bytes := 0
		for k := i; k < j; k++ {
			if res[k] == stats.ReasonNone {
				bytes += p.w[k].clear
			}
		}
		ok += p.books.Settle(sas[i], res[i:j], bytes)
		i = j
	}
	return ok
}
