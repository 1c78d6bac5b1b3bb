package ring

import (
	"sync/atomic"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port is one end of an in-memory link. It satisfies engine.Port.
type Port struct {
	cfg    Config
	rx     []*queue
	peer   *Port // receives what this port sends (itself for loopback)
	closed atomic.Bool
	stats  stats.Port
}

func newPort(cfg Config) *Port {
	cfg = cfg.withDefaults()
	p := &Port{cfg: cfg, rx: make([]*queue, cfg.Queues)}
	for i := range p.rx {
		p.rx[i] = newQueue(cfg.Size)
	}
	return p
}

// NewPair returns two ports wired back to back: what one sends the other
// receives.
func NewPair(a, b Config) (*Port, *Port) {
	pa, pb := newPort(a), newPort(b)
	pa.peer, pb.peer = pb, pa
	return pa, pb
}

// New returns a loopback port: what it sends it receives.
func New(cfg Config) *Port {
	p := newPort(cfg)
	p.peer = p
	return p
}

// Name returns the configured name.
func (p *Port) Name() string { return p.cfg.Name }

// LinkType returns the configured link type.
func (p *Port) LinkType() pkt.LinkType { return p.cfg.LinkType }

// MAC returns the configured or derived MAC address.
func (p *Port) MAC() [6]byte { return p.cfg.MAC }

// MTU returns the configured MTU.
func (p *Port) MTU() int { return p.cfg.MTU }

// RxQueues returns the number of rx queues.
func (p *Port) RxQueues() int { return len(p.rx) }

// TxQueues returns the number of tx queues.
func (p *Port) TxQueues() int { return p.cfg.Queues }

// Peer returns the port at the other end (the port itself for loopback).
func (p *Port) Peer() *Port { return p.peer }

// RxBurst moves up to len(bufs) Bufs from rx queue q into bufs and returns
// how many. One goroutine per queue.
func (p *Port) RxBurst(q int, bufs []*pkt.Buf) int {
	n := p.rx[q].dequeue(bufs)
	if n == 0 {
		return 0
	}
	bytes := 0
	for _, b := range bufs[:n] {
		t := b.Meta.RxTime
		b.Meta = pkt.Meta{RxTime: t, RxQueue: uint16(q)}
		bytes += b.Len()
	}
	p.stats.AddRx(n, bytes)
	return n
}

// TxBurst hands bufs to the peer's rx queue q % peer.RxQueues() and returns
// how many fit; the caller keeps bufs[n:]. Safe for concurrent callers.
// If the peer is closed, the frames are freed and counted as tx errors.
func (p *Port) TxBurst(q int, bufs []*pkt.Buf) int {
	if len(bufs) == 0 {
		return 0
	}
	peer := p.peer
	if peer.closed.Load() {
		for _, b := range bufs {
			b.Free()
		}
		p.stats.AddTxErrors(len(bufs))
		return len(bufs)
	}
	// Sum before enqueueing: once queued, a Buf belongs to the consumer,
	// which may free it at once. The refused tail is still ours.
	bytes := 0
	for _, b := range bufs {
		bytes += b.Len()
	}
	n := peer.rx[q%len(peer.rx)].enqueue(bufs)
	if n < len(bufs) {
		for _, b := range bufs[n:] {
			bytes -= b.Len()
		}
		p.stats.AddTxFull(len(bufs) - n)
	}
	p.stats.AddTx(n, bytes)
	return n
}

// Queued returns how many Bufs wait in rx queue q.
func (p *Port) Queued(q int) int { return p.rx[q].len() }

// Stats returns the port's counters.
func (p *Port) Stats() stats.PortSnapshot { return p.stats.Snapshot() }

// Close frees every queued Buf. Call it once traffic has stopped; later
// TxBursts from the peer free their frames.
func (p *Port) Close() error {
	p.closed.Store(true)
	var tmp [pkt.BurstSize]*pkt.Buf
	for _, q := range p.rx {
		for n := q.dequeue(tmp[:]); n > 0; n = q.dequeue(tmp[:]) {
			for i, b := range tmp[:n] {
				b.Free()
				tmp[i] = nil
			}
		}
	}
	return nil
}
