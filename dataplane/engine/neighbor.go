package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// neighKey names a neighbour: an address on a port (link-local IPv6
// addresses are only unique per link).
type neighKey struct {
	addr netip.Addr
	port int
}

type neighEntry struct {
	mac    [6]byte
	static bool
}

// neighbors is the ARP/NDP cache shared by all cores: readers load an
// immutable map; learning (rare) copies it under a mutex and publishes the
// copy. version lets cores notice that held packets may now resolve.
type neighbors struct {
	mu      sync.Mutex
	cur     atomic.Pointer[map[neighKey]neighEntry]
	version atomic.Uint64
}

func newNeighbors(static []Neighbor) *neighbors {
	n := &neighbors{}
	m := make(map[neighKey]neighEntry, len(static))
	for _, s := range static {
		m[neighKey{s.IP, s.Port}] = neighEntry{mac: s.MAC, static: true}
	}
	n.cur.Store(&m)
	return n
}

// lookup returns the MAC of addr on port.
func (n *neighbors) lookup(addr netip.Addr, port int) ([6]byte, bool) {
	e, ok := (*n.cur.Load())[neighKey{addr, port}]
	return e.mac, ok
}

// learn records addr at mac on port unless a static entry says otherwise
// or nothing changed. onlyUpdate learns only addresses already present
// (RFC 826's merge rule for ARP not addressed to us).
func (n *neighbors) learn(addr netip.Addr, port int, mac [6]byte, onlyUpdate bool) {
	k := neighKey{addr, port}
	old, ok := (*n.cur.Load())[k]
	if (ok && (old.static || old.mac == mac)) || (!ok && onlyUpdate) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := *n.cur.Load()
	if e, ok := cur[k]; ok && (e.static || e.mac == mac) {
		return
	}
	m := make(map[neighKey]neighEntry, len(cur)+1)
	for key, e := range cur {
		m[key] = e
	}
	m[k] = neighEntry{mac: mac}
	n.cur.Store(&m)
	n.version.Add(1)
}

// snapshot returns a copy of the table for display.
func (n *neighbors) snapshot() map[neighKey]neighEntry { return *n.cur.Load() }

// held is a packet waiting for its next hop to resolve.
type held struct {
	b        *pkt.Buf
	port     int
	nh       netip.Addr
	deadline int64
}

// holdQueue is one core's bounded list of packets waiting for ARP/NDP.
type holdQueue struct {
	q       []held
	version uint64 // neighbour version last retried at
	// lastAsk rate-limits resolution requests: at most one per next hop
	// per second.
	lastAsk map[neighKey]int64
}

const (
	holdMax        = 256
	askInterval    = int64(1e9)
	defaultTimeout = int64(3e9)
)

// add holds b; when full it drops the oldest.
func (h *holdQueue) add(ctx *Ctx, e held) {
	if len(h.q) == holdMax {
		ctx.Drop(h.q[0].b, stats.ReasonNeighborQueue)
		copy(h.q, h.q[1:])
		h.q = h.q[:len(h.q)-1]
	}
	h.q = append(h.q, e)
}

// shouldAsk reports whether a resolution request for k may go out now.
func (h *holdQueue) shouldAsk(k neighKey, now int64) bool {
	if h.lastAsk == nil {
		h.lastAsk = make(map[neighKey]int64)
	}
	if t, ok := h.lastAsk[k]; ok && now-t < askInterval {
		return false
	}
	if len(h.lastAsk) > 4*holdMax {
		clear(h.lastAsk) // bounded; losing rate state is harmless
	}
	h.lastAsk[k] = now
	return true
}
