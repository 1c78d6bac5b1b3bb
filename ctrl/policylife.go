package ctrl

import (
	"container/heap"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// policyTimers tracks policies with a lifetime or a use lifetime (a
// min-heap by deadline), so the timer touches only due ones. key.c's
// key_flush_spd: a policy goes when it is older than its lifetime or has
// been idle (no packet matched it, spd.Policy.IdleSince) longer than its
// use lifetime. A use deadline found passed is checked against the
// policy's last use and pushed back if a packet came since.
type policyTimers struct {
	mu  sync.Mutex
	h   policyHeap
	fns []func(spd.Policy)
}

type policyDue struct {
	id      uint32
	created time.Time // tells a replaced policy (same ID) from the armed one
	due     time.Time
	idle    bool // UseLifetime's deadline, which moves with use
}

type policyHeap []policyDue

func (h policyHeap) Len() int           { return len(h) }
func (h policyHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h policyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *policyHeap) Push(x any)        { *h = append(*h, x.(policyDue)) }
func (h *policyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// WatchPolicy arms p's lifetime and use lifetime (p as SPD.Add or Update
// returned it): when it is older than the one or idle longer than the
// other, the timer deletes p and tells the OnPolicyExpire listeners. A
// policy with neither is ignored.
func (m *Manager) WatchPolicy(p spd.Policy) {
	if p.Lifetime <= 0 && p.UseLifetime <= 0 {
		return
	}
	m.pol.mu.Lock()
	if p.Lifetime > 0 {
		heap.Push(&m.pol.h, policyDue{id: p.ID, created: p.Created, due: p.Created.Add(p.Lifetime)})
	}
	if p.UseLifetime > 0 {
		heap.Push(&m.pol.h, policyDue{id: p.ID, created: p.Created, due: p.Created.Add(p.UseLifetime), idle: true})
	}
	m.pol.mu.Unlock()
}

// OnPolicyExpire registers a listener for policies removed at the end of
// their lifetime (the PF_KEY server sends SADB_X_SPDEXPIRE). Listeners
// run on the control goroutine.
func (m *Manager) OnPolicyExpire(fn func(spd.Policy)) {
	m.pol.mu.Lock()
	m.pol.fns = append(m.pol.fns, fn)
	m.pol.mu.Unlock()
}

// expirePolicies removes the policies whose lifetime has passed.
func (m *Manager) expirePolicies(now time.Time) {
	var gone []spd.Policy
	m.pol.mu.Lock()
	var later []policyDue
	for len(m.pol.h) > 0 && !now.Before(m.pol.h[0].due) {
		d := heap.Pop(&m.pol.h).(policyDue)
		p, ok := m.SPD.Get(d.id)
		if !ok || !p.Created.Equal(d.created) {
			continue // deleted or replaced: the replacement has its own timers
		}
		if d.idle {
			// Used since the deadline was set: wait for the new one.
			if d.due = p.IdleSince().Add(p.UseLifetime); now.Before(d.due) {
				later = append(later, d)
				continue
			}
		}
		if _, err := m.SPD.DeleteID(d.id); err == nil {
			gone = append(gone, p)
		}
	}
	for _, d := range later {
		heap.Push(&m.pol.h, d)
	}
	fns := append([]func(spd.Policy){}, m.pol.fns...)
	m.pol.mu.Unlock()
	for _, p := range gone {
		m.log.Info("policy expired", zap.Uint32("id", p.ID), zap.Stringer("dir", p.Dir), zap.Stringer("selector", p.Selector),
			zap.Time("idle_since", p.IdleSince()))
		for _, fn := range fns {
			fn(p)
		}
	}
}
