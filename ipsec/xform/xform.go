// Package xform is the per-burst SA bookkeeping the ESP and AH transforms
// share: runs of packets with the same SA, sequence numbers reserved once
// per run, lifetimes charged once per run and the lifetimes crossed,
// listed for the caller.
//
//	Begin ─► Runs(sas) ─► per run: Reserve(sa, n) (encap) ─► crypto
//	      ─► per run: Settle(sa, results, bytes) ─► Expired()
//
// A Books belongs to one core's Processor; its slices are reused, so the
// steady state allocates nothing.
package xform

import (
	"time"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// MaxSeq32 is the last sequence number of an SA without ESN.
const MaxSeq32 = 1<<32 - 1

// Expiry is a lifetime an SA crossed during a burst.
type Expiry struct {
	SA     *sad.SA
	Expiry sad.Expiry
}

// Books is one core's bookkeeping for a burst; not safe for concurrent
// use. The zero value is ready.
type Books struct {
	exp   []Expiry
	runs  []int
	nowNS int64 // Unix ns for lifetimes, read once per burst when needed
}

// Begin readies b for a burst.
func (b *Books) Begin() {
	b.exp = b.exp[:0]
	b.nowNS = 0
}

// Expired lists the lifetimes crossed since Begin; the slice is reused
// after the next Begin.
func (b *Books) Expired() []Expiry { return b.exp }

// Raise records an expiry of sa for the caller.
func (b *Books) Raise(sa *sad.SA, e sad.Expiry) {
	if e != sad.ExpireNone {
		b.exp = append(b.exp, Expiry{SA: sa, Expiry: e})
	}
}

// Runs returns where each run of consecutive packets sharing an SA ends.
func (b *Books) Runs(sas []*sad.SA) []int {
	b.runs = b.runs[:0]
	for i := 0; i < len(sas); {
		j := i + 1
		for j < len(sas) && sas[j] == sas[i] {
			j++
		}
		b.runs = append(b.runs, j)
		i = j
	}
	return b.runs
}

// Reserve takes sequence numbers for the n live packets of a run with sa
// and returns the first and how many it got. Without ESN the last numbers
// below 2^32 are handed out and the packets past them must be dropped
// (seq-wrap); the SA then hard-expires.
func (b *Books) Reserve(sa *sad.SA, n int) (first uint64, got int) {
	first, ok := sa.ReserveSeq(n)
	if !ok && !sa.ESN {
		if left := MaxSeq32 - sa.Seq(); left > 0 && left < uint64(n) {
			n = int(left)
			first, ok = sa.ReserveSeq(n)
		}
	}
	if !ok {
		n = 0
	}
	if !ok || sa.Seq() == MaxSeq32 && !sa.ESN {
		b.Raise(sa, sa.ExpireNow(sad.ExpireHard))
	}
	return first, n
}

// Settle charges a run's successes, bytes of clear packets in all, to
// sa's lifetimes and counts its drops on sa (dummy packets are valid
// traffic, not errors); it returns the number of successes.
func (b *Books) Settle(sa *sad.SA, res []stats.Reason, bytes int) int {
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
		if b.nowNS == 0 {
			b.nowNS = time.Now().UnixNano()
		}
		b.Raise(sa, sa.Account(bytes, pkts, b.nowNS))
	}
	return pkts
}

// Usable tells why the packets of a run with sa are dropped before any
// work, or stats.ReasonNone.
func Usable(sa *sad.SA) stats.Reason {
	if sa == nil || sa.Sess == nil {
		return stats.ReasonNoSA
	}
	if !sa.Usable() {
		return stats.ReasonSAExpired
	}
	return stats.ReasonNone
}

// Fail drops every packet of a run for the same reason.
func Fail(res []stats.Reason, why stats.Reason) {
	for k := range res {
		res[k] = why
	}
}

// Live reports whether any packet of a run is still going.
func Live(res []stats.Reason) bool {
	for _, r := range res {
		if r == stats.ReasonNone {
			return true
		}
	}
	return false
}

// StatusReason maps a failed crypto op to a drop reason; malformed is the
// transform's reason for an op the engine refused as malformed.
func StatusReason(s alg.Status, malformed stats.Reason) stats.Reason {
	switch s {
	case alg.BadICV:
		return stats.ReasonBadICV
	case alg.BadSession:
		return stats.ReasonSAExpired // the SA was deleted and wiped meanwhile
	}
	return malformed
}
