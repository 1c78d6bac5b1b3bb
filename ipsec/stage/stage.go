// Package stage plugs IPsec into the engine: an inbound stage that
// removes ESP, AH and IPComp from packets addressed to the router and
// checks every received packet against the inbound policy, and an
// outbound stage that looks up the outbound policy and applies it.
//
//	inbound:  to us & ESP (or ESP-in-UDP 4500) / AH / IPComp (or plain IP-in-IP from an IPComp tunnel peer)?
//	          ─► SAD lookup (SPI; CPI or, for the well-known CPI, the endpoints) ─► esp/ah/ipcomp Decap (bursts)
//	          ─► repeat while nested, each step recorded in Meta.History
//	          ─► enc0 (capture, rules) ─► SPD in/fwd lookup ─► requests satisfied by the whole decapsulation history? ─► continue / drop
//	outbound: SPD out lookup ─► discard | none | ipsec: per request, in order (a bundle: compress, encrypt,
//	          authenticate) SAD.Outbound ─► PMTU check ─► enc0 (first transform only)
//	          ─► esp/ah/ipcomp Encap (one batched round per request)
//	          no SA: ACQUIRE (rate-limited) and, when mandatory, a per-policy queue released in order (acquire.go)
//
// net.inet.esp.esp_enable, net.inet.ah.ah_enable and
// net.inet.ipcomp.ipcomp_enable switch a protocol off: its packets are
// dropped (protocol-disabled) and counted in its noxform counter.
//
// Lookups go to lock-free snapshots; knobs are loaded once per burst.
// Each core gets its own stage instances (crypto engine, scratch).
package stage

import (
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Deps are the shared databases and settings the stages consult.
type Deps struct {
	SAD   *sad.Store
	SPD   *spd.Store
	Knobs *knobs.Holder
	// Stats collects every core's counters; nil makes a private one.
	Stats *Stats
	// NewEngine makes one core's crypto engine (default: Go's).
	NewEngine func() alg.Engine
	// Acquire is called (on the core, so it must not block) when an
	// outbound packet needs an SA that does not exist, at most as often as
	// net.key.blockacq_count and blockacq_lifetime allow; key is the
	// packet's. p is read-only and r points into it. May be nil.
	Acquire func(p *spd.Policy, r *spd.Request, key spd.Key)
	// Enc is the enc0 interface that filters and captures packets in the
	// clear (before encapsulation, after decapsulation); may be nil.
	Enc *enc.Interface
}

func (d *Deps) engine() alg.Engine {
	if d.NewEngine != nil {
		return d.NewEngine()
	}
	return alg.NewGoEngine()
}

// Inbound returns the factory of the inbound stage.
func Inbound(d Deps) engine.StageFactory {
	if d.Stats == nil {
		d.Stats = NewStats()
	}
	return func(core int) engine.Stage { return newInbound(&d, core) }
}

// Outbound returns the factory of the outbound stage.
func Outbound(d Deps) engine.StageFactory {
	if d.Stats == nil {
		d.Stats = NewStats()
	}
	return func(core int) engine.Stage { return newOutbound(&d, core) }
}
