package ctrl

import (
	"sync/atomic"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// acquireQueue is how many ACQUIREs the cores may have waiting for the
// control goroutine; beyond it they are dropped and counted (the cores
// raise them again under net.key.blockacq_*).
const acquireQueue = 1024

// AcquireEvent is one ACQUIRE raised by a core: an outbound packet
// matched Policy and found no SA for Request (which points into Policy;
// both read-only). Key is the packet's selector.
type AcquireEvent struct {
	Policy  *spd.Policy
	Request *spd.Request
	Key     spd.Key
}

// acquires is the Manager's ACQUIRE intake and listeners.
type acquires struct {
	ch      chan AcquireEvent
	dropped atomic.Uint64
	fns     []func(p *spd.Policy, r *spd.Request, key spd.Key)
}

// Acquire hands an ACQUIRE from a core to the control goroutine without
// blocking (stage.Deps.Acquire); when the queue is full it is dropped and
// counted.
func (m *Manager) Acquire(p *spd.Policy, r *spd.Request, key spd.Key) {
	select {
	case m.acq.ch <- AcquireEvent{Policy: p, Request: r, Key: key}:
	default:
		m.acq.dropped.Add(1)
	}
}

// OnAcquire registers a listener for ACQUIREs (the PF_KEY server sends
// SADB_ACQUIRE from it). Listeners run on the control goroutine (Run).
func (m *Manager) OnAcquire(fn func(p *spd.Policy, r *spd.Request, key spd.Key)) {
	m.mu.Lock()
	m.acq.fns = append(m.acq.fns, fn)
	m.mu.Unlock()
}

// AcquiresDropped is the number of ACQUIREs lost to a full queue.
func (m *Manager) AcquiresDropped() uint64 { return m.acq.dropped.Load() }

// acquired hands one ACQUIRE to the listeners.
func (m *Manager) acquired(ev AcquireEvent) {
	m.mu.Lock()
	fns := append([]func(*spd.Policy, *spd.Request, spd.Key){}, m.acq.fns...)
	m.mu.Unlock()
	for _, fn := range fns {
		fn(ev.Policy, ev.Request, ev.Key)
	}
}
