package esp

import (
	"math/rand/v2"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// Options are the run-time knobs, loaded once per burst by the caller:
// the tunnel-mode outer-header settings (DF bit, RFC 6040 ECN, TTL).
type Options = tunnel.Outer

// DefaultTTL is the outer TTL used when Options.TTL is 0.
const DefaultTTL = tunnel.DefaultTTL

// Expiry is a lifetime an SA crossed during the last Encap or Decap.
type Expiry struct {
	SA     *sad.SA
	Expiry sad.Expiry
}

// Processor is one core's ESP worker; not safe for concurrent use.
type Processor struct {
	eng   alg.Engine
	ops   []alg.Op
	w     []work
	exp   []Expiry
	ipID  uint16       // outer IPv4 identification, per core
	now   func() int64 // Unix ns for lifetimes; tests may replace it
	nowNS int64        // now() for this burst, 0 until needed
	runs  []int        // end of each run of packets with one SA (splitRuns)
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
		exp:  make([]Expiry, 0, 8),
		runs: make([]int, 0, n),
		ipID: uint16(rand.Uint32()),
		now:  func() int64 { return time.Now().UnixNano() },
	}
}

// Expired lists the lifetimes crossed during the last Encap or Decap call;
// the slice is reused by the next call.
func (p *Processor) Expired() []Expiry { return p.exp }

// begin readies the scratch for a burst of n packets.
func (p *Processor) begin(n int) {
	if cap(p.w) < n {
		p.w = make([]work, n)
	}
	p.w = p.w[:n]
	p.ops = p.ops[:0]
	p.exp = p.exp[:0]
	p.nowNS = 0
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

// raise records an expiry for the caller.
func (p *Processor) raise(sa *sad.SA, e sad.Expiry) {
	if e != sad.ExpireNone {
		p.exp = append(p.exp, Expiry{SA: sa, Expiry: e})
	}
}

// runEnd returns the end of the run of packets that share sas[i].
func runEnd(sas []*sad.SA, i int) int {
	j := i + 1
	for j < len(sas) && sas[j] == sas[i] {
		j++
	}
	return j
}

// splitRuns records where each run of packets sharing an SA ends, for
// the passes before and after the crypto call.
func (p *Processor) splitRuns(sas []*sad.SA) []int {
	p.runs = p.runs[:0]
	for i := 0; i < len(sas); {
		i = runEnd(sas, i)
		p.runs = append(p.runs, i)
	}
	return p.runs
}

// settle charges a run's successes, bytes of clear packets in all, to
// sa's lifetimes and counts its drops (dummy packets are valid traffic,
// not errors); it returns the number of successes.
func (p *Processor) settle(sa *sad.SA, res []stats.Reason, bytes int) int {
	pkts := 0
	for _, r := range res {
		switch r {
		case stats.ReasonNone:
			pkts++
		case stats.ReasonDummy:
		default:
			if sa != nil {
				sa.CountError()
			}
		}
	}
	if pkts > 0 {
		if p.nowNS == 0 {
			p.nowNS = p.now()
		}
		p.raise(sa, sa.Account(bytes, pkts, p.nowNS))
	}
	return pkts
}

// fail drops every packet of a run for the same reason.
func fail(res []stats.Reason, why stats.Reason) {
	for k := range res {
		res[k] = why
	}
}

// statusReason maps a failed crypto op to a drop reason.
func statusReason(s alg.Status) stats.Reason {
	switch s {
	case alg.BadICV:
		return stats.ReasonBadICV
	case alg.BadSession:
		return stats.ReasonSAExpired // the SA was deleted and wiped meanwhile
	}
	return stats.ReasonBadESPLength
}
