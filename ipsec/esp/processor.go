package esp

import (
	"math/rand/v2"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
	"github.com/fastipsec/fastipsec/ipsec/xform"
)

// Options are the run-time knobs, loaded once per burst by the caller:
// the tunnel-mode outer-header settings (DF bit, RFC 6040 ECN, TTL).
type Options = tunnel.Outer

// DefaultTTL is the outer TTL used when Options.TTL is 0.
const DefaultTTL = tunnel.DefaultTTL

// Expiry is a lifetime an SA crossed during the last Encap or Decap.
type Expiry = xform.Expiry

// Processor is one core's ESP worker; not safe for concurrent use.
type Processor struct {
	eng   alg.Engine
	ops   []alg.Op
	w     []work
	books xform.Books // runs, sequence numbers, lifetimes, expiries
	ipID  uint16      // outer IPv4 identification, per core
}

// work is one packet's plan and state within a burst.
type work struct {
	esp    int    // offset of the ESP header in the packet
	udp    int    // offset of the NAT-T UDP header, 0 without
	end    int    // decap: end of the ESP packet (ICV included)
	hdr    int    // transport: bytes of IP header kept (up to ESP or UDP)
	next   int    // transport: offset of the next-header field to patch
	front  int    // encap: bytes added in front of the payload
	pay    int    // encap: payload bytes (transport: after the header)
	tfc    int    // encap: TFC padding bytes
	pad    int    // encap: ESP padding bytes
	clear  int    // encap: clear packet length, for byte lifetimes
	seq    uint64 // full sequence number
	saved  [4]byte
	nh     uint8 // encap: next header of the payload
	esnAAD bool  // the 4 bytes before the ESP header hold the SPI (ESN AAD)
	v6     bool  // the packet (encap: inner; decap: outer) is IPv6
}

// NewProcessor returns a worker that runs its crypto on eng.
func NewProcessor(eng alg.Engine) *Processor {
	const n = 4 * pkt.BurstSize
	return &Processor{
		eng:  eng,
		ops:  make([]alg.Op, 0, n),
		w:    make([]work, n),
		ipID: uint16(rand.Uint32()),
	}
}

// Expired lists the lifetimes crossed during the last Encap or Decap call;
// the slice is reused by the next call.
func (p *Processor) Expired() []Expiry { return p.books.Expired() }

// begin readies the scratch for a burst of n packets.
func (p *Processor) begin(n int) {
	if cap(p.w) < n {
		p.w = make([]work, n)
	}
	p.w = p.w[:n]
	p.ops = p.ops[:0]
	p.books.Begin()
}

// addOp takes the next op slot, to be filled in whole. Ops follow the
// live packets in order, so the passes after the crypto pair them up by
// counting.
func (p *Processor) addOp() *alg.Op {
	k := len(p.ops)
	if k < cap(p.ops) {
		p.ops = p.ops[:k+1]
	} else {
		p.ops = append(p.ops, alg.Op{})
	}
	return &p.ops[k]
}

// done ends the burst. The op slots keep their references until the next
// burst overwrites them: packet memory that outlives any burst, and
// sessions, which Wipe leaves without keys.
func (p *Processor) done() {
	p.ops = p.ops[:0]
}
