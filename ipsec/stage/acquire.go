package stage

import (
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// The ACQUIRE path of the outbound stage. A packet whose ipsec policy
// lacks an SA for a request raises an ACQUIRE for the keying daemon; where
// the request is mandatory, the packet waits in its policy's queue on this
// core instead of being dropped (FreeBSD drops it), and leaves, in order,
// as soon as the SA is there:
//
//	prepare (round 0) ─► SA for every request? ── yes ─► encapsulate
//	                        │ no
//	                        ├─► blockacq: ACQUIRE due? ─► Deps.Acquire (non-blocking)
//	                        └─► mandatory? ─► policy queue (16 per policy, 256 per core; beyond: drop, acquire-queue-full)
//	each burst and tick: SAD or SPD generation moved? ─► policy's SAs ready (or policy changed)?
//	                        ─► Inject the queue in order ─► outbound again (re-classified)
//	tick: held longer than blockacq_lifetime ─► drop (policy-no-sa)
//
// Order: packets of a policy that arrive while it has a queue join the
// queue; those arriving in the poll iteration that releases it are
// injected behind the released ones. Rate limit, per core and request, as
// key.c's key_acquire: an ACQUIRE goes out for the first packet; after it,
// the next goes out once more than blockacq_count packets were counted,
// or once blockacq_lifetime seconds have passed.
const (
	holdPerPolicy = 16  // packets held per policy
	holdPerCore   = 256 // packets held per core over all policies
	holdPolicies  = 64  // policies with ACQUIRE state per core
	acqRequests   = 4   // requests of a bundle tracked apart (more share the last)
)

// Marks in Meta.Cookie of packets the stage injects for another round:
// released from a queue (the low bits keep when it was first held, so its
// timeout survives a re-hold), or deferred behind such packets.
const (
	released = 1 << 63
	deferred = 1 << 62
)

// acqRequest is one request's blockacq state (key.c's secacq).
type acqRequest struct {
	on      bool
	created int64 // ctx.Now when the last ACQUIRE went out
	count   int   // packets since, counted as key_getacq does
}

// acqEntry is one policy's ACQUIRE state and queue on a core.
type acqEntry struct {
	p     *spd.Policy
	reqs  [acqRequests]acqRequest
	q     []*pkt.Buf // held packets, oldest first
	since []int64    // when each was first held
}

// acquirer is one core's ACQUIRE state.
type acquirer struct {
	st      *AcquireStats
	entries [holdPolicies]acqEntry
	free    []*acqEntry
	index   map[*spd.Policy]*acqEntry
	held    int
	sadGen  uint64
	spdGen  uint64
	// injected says packets were injected for another round at ctx.Now
	// injectedAt: later bursts of that poll iteration go round too, behind
	// them, so nothing overtakes them.
	injected   bool
	injectedAt int64
}

// init prepares a in place (its free list points into it).
func (a *acquirer) init(st *AcquireStats) {
	a.st = st
	a.index = make(map[*spd.Policy]*acqEntry, holdPolicies)
	a.free = make([]*acqEntry, 0, holdPolicies)
	for i := range a.entries {
		e := &a.entries[i]
		e.q = make([]*pkt.Buf, 0, holdPerPolicy)
		e.since = make([]int64, 0, holdPerPolicy)
		a.free = append(a.free, e)
	}
}

// AcquireStats count one core's ACQUIRE work.
type AcquireStats struct {
	Sent       atomic.Uint64 // ACQUIREs raised (Deps.Acquire called)
	Suppressed atomic.Uint64 // ACQUIREs held back by blockacq
	Held       atomic.Uint64 // packets queued waiting for an SA
	Released   atomic.Uint64 // queued packets sent on once the SA came
	Overflow   atomic.Uint64 // packets dropped: queue full (acquire-queue-full)
	Expired    atomic.Uint64 // queued packets dropped after blockacq_lifetime
	NoState    atomic.Uint64 // ACQUIREs not raised: every entry holds packets
	_          [64]byte
}

// AcquireTotals is a summed copy of the ACQUIRE counters.
type AcquireTotals struct {
	Sent, Suppressed, Held, Released, Overflow, Expired, NoState uint64
}

// hold runs before a packet's first transform: it raises ACQUIREs for the
// requests of p without an SA and queues the packet when one of them is
// mandatory (or when older packets of p are queued, so the policy's
// packets keep their order). It reports whether it took the packet out of
// the burst.
func (s *outbound) hold(ctx *engine.Ctx, bufs []*pkt.Buf, i int, p *spd.Policy, kn *knobs.Values) bool {
	a := &s.acq
	b := bufs[i]
	since, wasHeld := ctx.Now, b.Meta.Cookie&released != 0
	if wasHeld {
		since = int64(b.Meta.Cookie &^ released)
	}
	b.Meta.Cookie = 0
	var e *acqEntry
	if len(a.index) > 0 {
		e = a.index[p]
	}
	data := b.Bytes()
	fam := family(data)
	need := false
	src, dst := addrs(data)
	for k := range p.Requests {
		r := &p.Requests[k]
		if s.findSA(p, k, src, dst, kn) != nil {
			continue
		}
		if !wasHeld {
			e = s.acquire(ctx, e, p, k, b, kn)
		}
		if mandatory(r, &kn.Fam[fam]) {
			need = true
		}
	}
	if !need && (e == nil || len(e.q) == 0) {
		return false
	}
	s.enqueue(ctx, e, p, b, since, kn)
	bufs[i] = nil
	return true
}

// entry returns p's state, making it if need be (nil when every entry
// holds packets).
func (s *outbound) entry(p *spd.Policy, e *acqEntry) *acqEntry {
	a := &s.acq
	if e != nil {
		return e
	}
	if len(a.free) == 0 {
		// Recycle the idle entry whose last ACQUIRE is oldest.
		var old *acqEntry
		for i := range a.entries {
			c := &a.entries[i]
			if len(c.q) == 0 && (old == nil || c.newest() < old.newest()) {
				old = c
			}
		}
		if old == nil {
			return nil
		}
		a.retire(old)
	}
	e = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	e.p = p
	a.index[p] = e
	return e
}

// newest is when the entry last raised an ACQUIRE.
func (e *acqEntry) newest() int64 {
	var t int64
	for i := range e.reqs {
		if e.reqs[i].on && (t == 0 || e.reqs[i].created > t) {
			t = e.reqs[i].created
		}
	}
	return t
}

// retire frees an entry that holds no packets.
func (a *acquirer) retire(e *acqEntry) {
	delete(a.index, e.p)
	q, since := e.q, e.since
	*e = acqEntry{q: q[:0], since: since[:0]}
	a.free = append(a.free, e)
}

// acquire counts a packet of p that found no SA for request k and raises
// an ACQUIRE when blockacq lets it. It returns p's entry.
func (s *outbound) acquire(ctx *engine.Ctx, e *acqEntry, p *spd.Policy, k int, b *pkt.Buf, kn *knobs.Values) *acqEntry {
	st := s.acq.st
	if e = s.entry(p, e); e == nil {
		st.NoState.Add(1)
		return nil
	}
	ar := &e.reqs[min(k, acqRequests-1)]
	switch {
	case !ar.on || ctx.Now-ar.created > int64(kn.BlockAcqLife)*1e9:
		// First, or the last one's block has lapsed (key_flush_acq).
	case ar.count > kn.BlockAcqCount:
		// Enough packets since the last one.
	default:
		ar.count++
		st.Suppressed.Add(1)
		return e
	}
	ar.on, ar.created, ar.count = true, ctx.Now, 0
	st.Sent.Add(1)
	if s.d.Acquire != nil {
		key, _ := spd.KeyFromPacket(b.Bytes(), b.Meta.L4Proto, int(b.Meta.L4Off))
		s.d.Acquire(p, &p.Requests[k], key)
	}
	return e
}

// enqueue adds b to p's queue, or drops it when the queue or the core's
// share is full.
func (s *outbound) enqueue(ctx *engine.Ctx, e *acqEntry, p *spd.Policy, b *pkt.Buf, since int64, kn *knobs.Values) {
	a := &s.acq
	e = s.entry(p, e)
	if e == nil || len(e.q) >= holdPerPolicy || a.held >= holdPerCore {
		a.st.Overflow.Add(1)
		s.st.count(stats.ReasonAcquireQueue)
		ctx.Drop(b, stats.ReasonAcquireQueue)
		return
	}
	e.q = append(e.q, b)
	e.since = append(e.since, since)
	a.held++
	a.st.Held.Add(1)
}

// release injects every queued packet whose policy can now be applied,
// or whose policy changed (they are classified again); it is cheap unless
// the SAD or SPD moved since the last look. It runs before the burst's
// SA lookups, so a change after them is seen by the next call.
func (s *outbound) release(ctx *engine.Ctx, kn *knobs.Values) {
	a := &s.acq
	sg, pg := s.d.SAD.Gen(), s.d.SPD.Gen()
	if a.held == 0 || sg == a.sadGen && pg == a.spdGen {
		a.sadGen, a.spdGen = sg, pg
		return
	}
	a.sadGen, a.spdGen = sg, pg
	for i := range a.entries {
		e := &a.entries[i]
		if len(e.q) == 0 || !s.ready(e, kn) {
			continue
		}
		for j, b := range e.q {
			b.Meta.Cookie = released | uint64(e.since[j])
			ctx.Inject(b)
		}
		a.held -= len(e.q)
		a.st.Released.Add(uint64(len(e.q)))
		clear(e.q)
		e.q, e.since = e.q[:0], e.since[:0]
		a.injected, a.injectedAt = true, ctx.Now
	}
}

// deferBurst sends a burst round again, behind the packets injected
// earlier in this poll iteration (the engine routes injected packets, in
// order, at the end of the iteration), so none of them is overtaken. A
// burst that already carries injected packets is that second round and
// proceeds. It reports whether it took the burst, leaving bufs empty.
func (s *outbound) deferBurst(ctx *engine.Ctx, bufs []*pkt.Buf) bool {
	a := &s.acq
	if !a.injected || a.injectedAt != ctx.Now {
		return false
	}
	for _, b := range bufs {
		if b.Meta.Cookie&(released|deferred) != 0 {
			return false
		}
	}
	for _, b := range bufs {
		b.Meta.Cookie = deferred
		ctx.Inject(b)
	}
	clear(bufs)
	return true
}

// ready reports whether e's oldest packet would now leave: its policy is
// no longer the one it waits for, or every mandatory request has an SA.
func (s *outbound) ready(e *acqEntry, kn *knobs.Values) bool {
	b := e.q[0]
	data := b.Bytes()
	key, _ := spd.KeyFromPacket(data, b.Meta.L4Proto, int(b.Meta.L4Off))
	if s.d.SPD.Lookup(spd.DirOut, &key) != e.p {
		return true
	}
	kf := &kn.Fam[family(data)]
	src, dst := addrs(data)
	for k := range e.p.Requests {
		r := &e.p.Requests[k]
		if !mandatory(r, kf) {
			continue
		}
		// Not findSA: its choices hold only within one burst.
		if a, z := e.p.Endpoints(k, src, dst); usableSA(s.d.SAD, r, a, z, kn) == nil {
			return false
		}
	}
	return true
}

// Tick releases what can go (the core routes it in the same iteration,
// so nothing newer overtakes it), drops what waited longer than
// blockacq_lifetime, and forgets idle policies (engine.Holder).
func (s *outbound) Tick(ctx *engine.Ctx) {
	a := &s.acq
	if len(a.index) == 0 {
		return
	}
	kn := s.d.Knobs.Load()
	s.release(ctx, kn)
	life := int64(kn.BlockAcqLife) * 1e9
	for i := range a.entries {
		e := &a.entries[i]
		if e.p == nil {
			continue
		}
		n := 0
		for n < len(e.q) && ctx.Now-e.since[n] > life {
			a.st.Expired.Add(1)
			s.st.count(stats.ReasonPolicyNoSA)
			ctx.Drop(e.q[n], stats.ReasonPolicyNoSA)
			n++
		}
		if n > 0 {
			m := copy(e.q, e.q[n:])
			copy(e.since, e.since[n:])
			clear(e.q[m:])
			e.q, e.since = e.q[:m], e.since[:m]
			a.held -= n
		}
		if len(e.q) == 0 && (e.newest() == 0 || ctx.Now-e.newest() > life) {
			a.retire(e)
		}
	}
}

// Release drops every queued packet: the core is stopping (engine.Holder).
func (s *outbound) Release(ctx *engine.Ctx) {
	a := &s.acq
	for i := range a.entries {
		e := &a.entries[i]
		for _, b := range e.q {
			s.st.count(stats.ReasonPolicyNoSA)
			ctx.Drop(b, stats.ReasonPolicyNoSA)
		}
		if e.p != nil {
			a.retire(e)
		}
	}
	a.held = 0
}

// acquireCore returns core c's ACQUIRE counters, creating them once.
func (s *Stats) acquireCore(c int) *AcquireStats { return s.acq.get(&s.mu, c) }

// Acquire sums the ACQUIRE counters of every core.
func (s *Stats) Acquire() AcquireTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t AcquireTotals
	sumCounters(s.acq.all, &t)
	return t
}

// requeue sends a packet whose SA died between lookup and encapsulation
// (a rekey deleting the old SA under load) round the outbound path again,
// where it finds the new SA or waits for one. Only packets no transform
// has touched qualify (the caller checked the length is unchanged).
func (s *outbound) requeue(ctx *engine.Ctx, bufs []*pkt.Buf, i int) bool {
	b := bufs[i]
	if b.Meta.Flags&pkt.FlagEncapsulated != 0 {
		return false
	}
	b.Meta.Cookie = released | uint64(ctx.Now)
	ctx.Inject(b)
	bufs[i] = nil
	s.acq.injected, s.acq.injectedAt = true, ctx.Now
	return true
}
