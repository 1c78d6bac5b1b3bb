package engine

import (
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/reasm"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// txBacklog is how many refused packets a core keeps per port for retry.
const txBacklog = 256

// rxQueue is one (port, queue) pair a core polls.
type rxQueue struct {
	port, queue int
}

// core is one poll loop and everything it owns: buffers, counters, stage
// instances, the per-port tx batches and the neighbour hold queue.
type core struct {
	id       int
	e        *Engine
	rxq      []rxQueue
	cache    *pkt.Cache
	stats    stats.Core
	ctx      Ctx
	inbound  []Stage
	outbound []Stage
	t        *tables // loaded once per burst

	rx   []*pkt.Buf   // rx burst
	work []*pkt.Buf   // packets going through the stages
	out  []*pkt.Buf   // packets to route out
	tx   [][]*pkt.Buf // per-port tx batch
	hold holdQueue
	icmp tokenBucket

	reasm  *reasm.Table
	dropFn func(*pkt.Buf, stats.Reason)

	hostMAC [6]byte // learned from the host-path port's frames
	fragID  uint32  // IPv6 fragment identification

	idle     int
	lastTick int64
}

func newCore(e *Engine, id int) *core {
	burst := e.cfg.Burst
	c := &core{
		id:    id,
		e:     e,
		cache: e.cfg.Pool.NewCache(),
		rx:    make([]*pkt.Buf, burst),
		work:  make([]*pkt.Buf, 0, 4*burst),
		out:   make([]*pkt.Buf, 0, 4*burst),
		tx:    make([][]*pkt.Buf, len(e.cfg.Ports)),
	}
	for i := range c.tx {
		c.tx[i] = make([]*pkt.Buf, 0, txBacklog+4*burst)
	}
	c.ctx = Ctx{Core: id, Cache: c.cache, Stats: &c.stats, core: c,
		inject: make([]*pkt.Buf, 0, 2*burst), host: make([]*pkt.Buf, 0, burst)}
	for _, f := range e.cfg.Inbound {
		c.inbound = append(c.inbound, f(id))
	}
	for _, f := range e.cfg.Outbound {
		c.outbound = append(c.outbound, f(id))
	}
	c.icmp.init(e.cfg.ICMPRate)
	c.reasm = reasm.New(reasm.Config{MaxBytes: 1 << 20}, c.cache)
	c.dropFn = c.ctx.Drop
	return c
}

// loop polls until the engine stops.
func (c *core) loop() {
	for !c.e.stop.Load() {
		if c.poll() > 0 {
			c.idle = 0
			continue
		}
		c.backoff()
	}
	c.shutdown()
}

// shutdown sends what it can, drops the rest and returns the buffers.
func (c *core) shutdown() {
	c.eachHolder(func(h Holder) { h.Release(&c.ctx) })
	c.flushTx()
	for pi, batch := range c.tx {
		for _, b := range batch {
			c.ctx.Drop(b, stats.ReasonTxFull)
		}
		clear(batch)
		c.tx[pi] = batch[:0]
	}
	for _, h := range c.hold.q {
		c.ctx.Drop(h.b, stats.ReasonNoNeighbor)
	}
	c.hold.q = c.hold.q[:0]
	c.cache.Flush()
}

// backoff spins for a while when idle, then sleeps up to half a
// millisecond (IdleAdaptive). It does not yield in between: the loop's
// goroutine is locked to its thread, so every runtime.Gosched is a
// thread hand-off (two futex calls) that costs more than it saves.
func (c *core) backoff() {
	if c.e.cfg.Idle == IdlePoll {
		return
	}
	c.idle++
	switch {
	case c.idle < 256:
	default:
		d := time.Duration(min(c.idle-256+1, 50)) * 10 * time.Microsecond
		time.Sleep(d)
	}
}

// poll runs one iteration: every rx queue once, injected and held
// packets, timers. It returns the number of packets handled.
func (c *core) poll() int {
	c.ctx.Now = c.e.now()
	c.t = c.e.tables.Load()
	total := 0
	for _, q := range c.rxq {
		p := c.t.ifaces[q.port].port
		n := p.RxBurst(q.queue, c.rx)
		if n == 0 {
			continue
		}
		total += n
		bytes := 0
		for i, b := range c.rx[:n] {
			bytes += b.Len()
			b.Meta.InPort = uint16(q.port)
			b.Meta.RxQueue = uint16(q.queue)
			c.rx[i] = nil
			c.work = append(c.work, b)
		}
		c.stats.AddRx(n, bytes)
		c.process(q.port)
	}
	if len(c.ctx.inject) > 0 || len(c.ctx.host) > 0 {
		total += len(c.ctx.inject) + len(c.ctx.host)
		c.drainInjected()
	}
	if c.ctx.Now-c.lastTick > int64(time.Millisecond) {
		c.lastTick = c.ctx.Now
		c.tick()
	}
	if total == 0 && c.pendingTx() {
		c.flushTx()
		total = 1 // still busy: do not back off
	}
	c.stats.AddPoll(total == 0)
	return total
}

// process runs the burst in c.work (frames from port in) through the
// whole pipeline and transmits the results.
func (c *core) process(in int) {
	host := in == c.e.cfg.HostPort
	n := 0
	for _, b := range c.work {
		if !c.ingress(b, in) {
			continue
		}
		if !host && b.Meta.Flags&pkt.FlagToLocal != 0 && reasm.IsFragment(b.Bytes()) {
			// Fragments for the router (ESP, IKE) are put back together
			// before decapsulation; forwarded ones pass untouched.
			if b = c.reasm.Add(b, c.ctx.Now, c.dropFn); b == nil || !c.relayer(b) {
				continue
			}
		}
		c.work[n] = b
		n++
	}
	clear(c.work[n:])
	c.work = c.work[:n]
	if host {
		// What the host sends is locally originated: straight to the
		// outbound path, no TTL decrement.
		for _, b := range c.work {
			b.Meta.Flags |= pkt.FlagLocalOrigin
		}
		c.out = append(c.out, c.work...)
		c.work = c.work[:0]
	} else {
		c.runInbound()
	}
	c.runOutbound()
	c.flushTx()
}

// runInbound runs the inbound stages on c.work, then sorts packets into
// local delivery and forwarding (appending the latter to c.out).
func (c *core) runInbound() {
	w := c.work
	for _, s := range c.inbound {
		if len(w) == 0 {
			break
		}
		w = w[:s.Process(&c.ctx, w)]
	}
	for _, b := range w {
		if b.Meta.Flags&pkt.FlagDecapsulated != 0 {
			// The inner packet may be for us; classify it again.
			if !c.classify(b) {
				continue
			}
		}
		if b.Meta.Flags&pkt.FlagToLocal != 0 {
			c.deliverLocal(b)
			continue
		}
		if c.decTTL(b) {
			c.out = append(c.out, b)
		}
	}
	clear(c.work)
	c.work = c.work[:0]
}

// runOutbound runs the outbound stages on c.out and routes the survivors.
func (c *core) runOutbound() {
	o := c.out
	for _, s := range c.outbound {
		if len(o) == 0 {
			break
		}
		o = o[:s.Process(&c.ctx, o)]
	}
	for _, b := range o {
		c.route(b)
	}
	clear(c.out)
	c.out = c.out[:0]
}

// drainInjected routes what stages and the router itself queued, and
// hands host-bound packets to the host path.
func (c *core) drainInjected() {
	for len(c.ctx.inject) > 0 || len(c.ctx.host) > 0 {
		for _, b := range c.ctx.host {
			c.toHost(b)
		}
		clear(c.ctx.host)
		c.ctx.host = c.ctx.host[:0]
		c.out = append(c.out, c.ctx.inject...)
		clear(c.ctx.inject)
		c.ctx.inject = c.ctx.inject[:0]
		c.runOutbound()
	}
	c.flushTx()
}

// tick runs timers: held packets whose neighbour resolved go out, expired
// ones are dropped.
func (c *core) tick() {
	c.icmp.refill(c.ctx.Now)
	if c.reasm.Len() > 0 {
		c.reasm.Expire(c.ctx.Now, c.dropFn)
	}
	c.eachHolder(func(h Holder) { h.Tick(&c.ctx) })
	if len(c.ctx.inject) > 0 {
		// Released in this iteration: routed before anything newer.
		c.drainInjected()
	}
	if len(c.hold.q) == 0 {
		return
	}
	v := c.e.neigh.version.Load()
	retry := v != c.hold.version
	c.hold.version = v
	n := 0
	for _, h := range c.hold.q {
		if retry {
			if mac, ok := c.e.neigh.lookup(h.nh, h.port); ok {
				c.sendL2(h.b, h.port, mac)
				continue
			}
		}
		if c.ctx.Now > h.deadline {
			c.ctx.Drop(h.b, stats.ReasonNoNeighbor)
			continue
		}
		c.hold.q[n] = h
		n++
	}
	clear(c.hold.q[n:])
	c.hold.q = c.hold.q[:n]
	c.flushTx()
}

// eachHolder calls fn for every stage that holds packets across bursts.
func (c *core) eachHolder(fn func(Holder)) {
	for _, l := range [2][]Stage{c.inbound, c.outbound} {
		for _, s := range l {
			if h, ok := s.(Holder); ok {
				fn(h)
			}
		}
	}
}

// flushTx sends every port's batch. What a port refuses stays queued
// for the next flush (absorbing short stalls of the receiver) up to
// txBacklog packets per port; beyond that it is dropped and counted.
func (c *core) flushTx() {
	for pi, batch := range c.tx {
		if len(batch) == 0 {
			continue
		}
		p := c.t.ifaces[pi].port
		q := c.id % max(1, p.TxQueues())
		bytes := 0
		for _, b := range batch {
			bytes += b.Len()
		}
		// The port owns batch[:sent] from here on: only read the rest.
		sent := p.TxBurst(q, batch)
		for _, b := range batch[sent:] {
			bytes -= b.Len()
		}
		c.stats.AddTx(sent, bytes)
		rest := copy(batch, batch[sent:])
		clear(batch[rest:])
		batch = batch[:rest]
		if over := len(batch) - txBacklog; over > 0 {
			for _, b := range batch[:over] {
				c.ctx.Drop(b, stats.ReasonTxFull)
			}
			rest = copy(batch, batch[over:])
			clear(batch[rest:])
			batch = batch[:rest]
		}
		c.tx[pi] = batch
	}
}

// pendingTx reports whether any port has packets waiting to be sent.
func (c *core) pendingTx() bool {
	for _, b := range c.tx {
		if len(b) > 0 {
			return true
		}
	}
	return false
}
