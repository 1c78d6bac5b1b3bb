package engine

import (
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Stage processes bursts of IP packets in place (the buffer's data starts
// at the IP header). It returns how many packets continue and moves them,
// in order, to the front of bufs. Packets it rejects it hands to ctx.Drop
// with a reason; packets it keeps (queued for later) it simply leaves out.
// A Stage instance belongs to one core and need not be thread-safe.
type Stage interface {
	Name() string
	Process(ctx *Ctx, bufs []*pkt.Buf) int
}

// Holder is implemented by stages that keep packets across bursts (the
// IPsec ACQUIRE queue). The core calls Tick about once a millisecond,
// when the stage may Inject packets it releases and Drop those it gives
// up on, and Release when it stops: the stage must then Drop everything
// it still holds, so no buffer outlives the core.
type Holder interface {
	Tick(ctx *Ctx)
	Release(ctx *Ctx)
}

// StageFactory makes one core's instance of a stage.
type StageFactory func(core int) Stage

// Ctx is what a core offers the stages it runs.
type Ctx struct {
	// Core is the index of the core (0..n-1), not the CPU number.
	Core int
	// Now is the monotonic time in nanoseconds, read once per burst.
	Now int64
	// Cache hands out buffers for packets the stage makes.
	Cache *pkt.Cache
	// Stats are this core's counters.
	Stats *stats.Core

	inject []*pkt.Buf
	host   []*pkt.Buf
	core   *core
}

// ICMPError sends an ICMP or ICMPv6 error about b (which the caller still
// owns) to b's source, under the router's rules and rate limit: for
// example fragmentation-needed with the MTU a tunnel leaves (RFC 4301 §8).
func (c *Ctx) ICMPError(b *pkt.Buf, typ, code uint8, rest uint32) {
	c.core.icmpError(b, typ, code, rest)
}

// RouteMTU returns the MTU of the port a packet to dst leaves by.
func (c *Ctx) RouteMTU(dst netip.Addr) (int, bool) {
	t := c.core.t
	var nh *nexthop
	var ok bool
	if dst.Is4() {
		nh, ok = t.lookup4(dst.As4())
	} else {
		a := dst.As16()
		nh, ok = t.lookup6(&a)
	}
	if !ok {
		return 0, false
	}
	return t.ifaces[nh.port].mtu, true
}

// IsLocal reports whether a is one of the router's addresses.
func (c *Ctx) IsLocal(a netip.Addr) bool {
	_, ok := c.core.t.local[a]
	return ok
}

// FromHost reports whether b came in through the host-path port.
func (c *Ctx) FromHost(b *pkt.Buf) bool {
	return int(b.Meta.InPort) == c.core.e.cfg.HostPort && b.Meta.Flags&pkt.FlagLocalOrigin != 0
}

// Drop counts b as dropped for reason r and frees it.
func (c *Ctx) Drop(b *pkt.Buf, r stats.Reason) {
	c.Stats.Drop(r)
	c.Cache.Put(b)
}

// Inject queues a packet made or released by a stage (an IP packet, data
// at the IP header) for the outbound path of this core's next iteration.
func (c *Ctx) Inject(b *pkt.Buf) {
	b.Meta.Flags |= pkt.FlagLocalOrigin
	c.inject = append(c.inject, b)
}

// ToHost queues an IP packet for the host-path port (for example an IKE
// packet that arrived on the NAT-T port).
func (c *Ctx) ToHost(b *pkt.Buf) {
	c.host = append(c.host, b)
}

// Keep compacts bufs to the entries for which keep is true (preserving
// order) and returns their number; a helper for stages.
func Keep(bufs []*pkt.Buf, keep func(*pkt.Buf) bool) int {
	n := 0
	for _, b := range bufs {
		if keep(b) {
			bufs[n] = b
			n++
		}
	}
	return n
}
