package engine

import (
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
