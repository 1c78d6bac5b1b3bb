// Package spd is the security policy database: an ordered list of
// policies per direction (RFC 4301 §4.4.1, FreeBSD key.c), where the FIRST
// policy in order whose selector matches a packet decides - highest
// Priority first, then earliest installed - not the most specific one.
//
// The order is answered by a tuple-space classifier, one per direction
// and address family:
//
//	Key{src,dst,proto,sport,dport}  (built once per packet)
//	   │ as words: s0 s1 d0 d1 x=proto<<32|sport<<16|dport
//	   ▼
//	probe list (atomic.Pointer, sorted by each shape's best-possible order)
//	   ├─ shape /32 /32 proto:6 sport:any dport:443  ─► masked key ─► hash ─► chain
//	   ├─ shape /24 /24 proto:any ports:any          ─► masked key ─► hash ─► chain
//	   ├─ shape /16 /0  proto:17 dport:range         ─► (range checked per node)
//	   └─ ... stop once a shape's bound cannot beat the candidate
//	                                   ▼
//	                     best candidate = first match in SPD order
//
// A shape is the set of policies sharing source and destination prefix
// lengths, protocol any-or-exact, and each port any, exact or range. All
// policies of a shape hash on the same masked fields, so a packet probes
// one bucket per shape; ranges are not hashed but checked per node. Two
// policies with one masked key differ only in port ranges; the chain keeps
// them in SPD order, so the first full match in a chain is the shape's
// answer. Each shape carries a bound (no policy in it precedes it); the
// probe list is sorted by bound, and a lookup stops at the first shape
// whose bound does not beat its candidate. Cost: one hash probe per shape
// (a handful in practice), independent of the number of policies.
//
// Why tuple space: it is exact for arbitrary overlaps and priorities (no
// rule splitting, unlike decision trees), and an update touches one shape.
// The alternative, rebuilding a compiled structure per change, makes
// installing 1,000,000 policies one by one quadratic.
//
// Concurrency (RCU): chains are immutable. A writer, under the Store's
// mutex, path-copies one chain and publishes its head with an atomic store;
// a table that grows or shrinks is copied and published whole (amortized
// O(1) per insert); the probe list is republished only when a shape
// appears, disappears or changes bound. Readers load pointers and never
// lock or allocate; each returns a policy that was installed at some
// instant during the lookup. Bounds are optimistic: deleting the bound
// policy of a large shape leaves a stale bound, which costs a probe,
// never a wrong answer.
//
// Ports: for ICMP and ICMPv6 the source port carries the type and the
// destination port the code (PF_KEY's convention); MH carries its type in
// the source port. Packets whose ports are unavailable - non-first
// fragments, protocols without ports, truncated headers - have OPAQUE
// ports (Key.Opaque) and match only selectors whose ports are both any.
// Port selectors apply to every direction, forwarded packets included.
//
// Priority here is "higher wins" (ipsec-tools `prio`); PF_KEY's
// sadb_x_policy_priority is "lower wins", so convert at that boundary.
//
// A `unique` request installed without a reqid gets one of its own above
// MaxManualReqID (FreeBSD's key_newreqid), so the SAs keyed for it serve
// that policy alone; SPDUPDATE keeps it. Gen moves with every change, for
// cores that hold packets waiting on a policy (the ACQUIRE queue).
//
// Use time: cores call Policy.MarkUsed once per burst per policy with the
// wall-clock second; the stamp is written only when the second moves on,
// so it costs a shared read per burst, not a cache line bouncing between
// cores per packet. The control plane expires policies idle longer than
// UseLifetime (IdleSince), as FreeBSD's key_flush_spd does with lastused.
package spd
