package ctrl

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// acquireQueue bounds ACQUIRE requests waiting for the control goroutine;
// more are dropped (the next packet asks again).
const acquireQueue = 1024

// Acquire asks the keying daemons for an SA (SADB_ACQUIRE).
type Acquire struct {
	Policy   *spd.Policy // read-only
	Request  int         // index into Policy.Requests
	Src, Dst netip.Addr  // the SA's endpoints
	Key      spd.Key     // the triggering packet's selector
	Seq      uint32      // same for repeats of one pending acquire
}

// acquirer holds ACQUIRE state: the cores' queue, then (control goroutine
// only) the pending acquires, as FreeBSD's acqtree: repeats of one keep
// its sequence number until it is answered or blockacq_lifetime passes.
// The cores already space repeats by net.key.blockacq_count packets and
// blockacq_lifetime (ipsec/stage), so every one that arrives is sent.
type acquirer struct {
	q       chan Acquire
	dropped atomic.Uint64
	mu      sync.Mutex // seq, pending
	seq     uint32
	pending map[acqKey]*acqEntry
	fns     []func(Acquire)
}

// acqKey is what makes two acquires the same (key.c's secasindex).
type acqKey struct {
	proto    sad.Proto
	mode     sad.Mode
	reqid    uint32
	src, dst netip.Addr
}

type acqEntry struct {
	seq     uint32
	created time.Time
}

func (a *acquirer) init() {
	a.q = make(chan Acquire, acquireQueue)
	a.pending = make(map[acqKey]*acqEntry)
}

// Acquire queues an ACQUIRE for request r of policy p, raised by a packet
// with selector key (stage.Deps.Acquire): called on a core, it never
// blocks; when the queue is full the request is dropped and counted.
func (m *Manager) Acquire(p *spd.Policy, r *spd.Request, key spd.Key) {
	idx := -1
	for i := range p.Requests {
		if &p.Requests[i] == r {
			idx = i
		}
	}
	if idx < 0 {
		return
	}
	select {
	case m.acq.q <- Acquire{Policy: p, Request: idx, Key: key}:
	default:
		m.acq.dropped.Add(1)
	}
}

// AcquiresDropped counts ACQUIREs lost to a full queue.
func (m *Manager) AcquiresDropped() uint64 { return m.acq.dropped.Load() }

// OnAcquire registers a listener for ACQUIREs that pass the blocking
// (the PF_KEY server sends SADB_ACQUIRE from it). Listeners run on the
// control goroutine (Run) and must not block.
func (m *Manager) OnAcquire(fn func(Acquire)) {
	m.mu.Lock()
	m.acq.fns = append(m.acq.fns, fn)
	m.mu.Unlock()
}

// acquired numbers one queued acquire and tells the listeners.
func (m *Manager) acquired(a Acquire, now time.Time) {
	r := &a.Policy.Requests[a.Request]
	a.Src, a.Dst = a.Policy.Endpoints(a.Request, a.Key.SrcAddr(), a.Key.DstAddr())
	k := acqKey{proto: r.Proto, mode: r.Mode, reqid: r.ReqID, src: a.Src, dst: a.Dst}
	m.acq.mu.Lock()
	e := m.acq.pending[k]
	if e == nil {
		m.acq.seq++
		if m.acq.seq == 0 {
			m.acq.seq = 1
		}
		e = &acqEntry{seq: m.acq.seq, created: now}
		m.acq.pending[k] = e
	}
	a.Seq = e.seq
	m.acq.mu.Unlock()
	m.mu.Lock()
	fns := append([]func(Acquire){}, m.acq.fns...)
	m.mu.Unlock()
	for _, fn := range fns {
		fn(a)
	}
}

// expireAcquires forgets pending acquires older than blockacq_lifetime.
func (m *Manager) expireAcquires(now time.Time) {
	life := time.Duration(m.Knobs.Load().BlockAcqLife) * time.Second
	m.acq.mu.Lock()
	defer m.acq.mu.Unlock()
	for k, e := range m.acq.pending {
		if now.Sub(e.created) >= life {
			delete(m.acq.pending, k)
		}
	}
}

// AcquireAnswered ends the pending acquire with this sequence number
// (a GETSPI, ADD or UPDATE carrying it), so the next packet without an SA
// asks again at once, as key.c's key_getacqbyseq.
func (m *Manager) AcquireAnswered(seq uint32) {
	if seq == 0 {
		return
	}
	m.acq.mu.Lock()
	defer m.acq.mu.Unlock()
	for k, e := range m.acq.pending {
		if e.seq == seq {
			delete(m.acq.pending, k)
			return
		}
	}
}
