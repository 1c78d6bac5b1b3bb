package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Engine is the dataplane: router tables, neighbours and the cores.
type Engine struct {
	cfg    Config
	tables atomic.Pointer[tables]
	neigh  *neighbors
	cores  []*core
	start  time.Time

	stop    atomic.Bool
	wg      sync.WaitGroup
	running atomic.Bool
	errMu   sync.Mutex
	err     error
}

// New validates cfg and builds an engine; Start or RunOffline runs it.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Burst <= 0 {
		cfg.Burst = pkt.BurstSize
	}
	if len(cfg.Cores) == 0 {
		cfg.Cores = []int{0}
	}
	if cfg.ICMPRate == 0 {
		cfg.ICMPRate = 1000
	}
	if cfg.NeighborTimeout <= 0 {
		cfg.NeighborTimeout = defaultTimeout
	}
	e := &Engine{cfg: cfg, neigh: newNeighbors(cfg.Neighbors), start: time.Now()}
	e.tables.Store(buildTables(&e.cfg))
	for i := range cfg.Cores {
		e.cores = append(e.cores, newCore(e, i))
	}
	// Spread rx queues over the cores round-robin.
	next := 0
	for pi, p := range cfg.Ports {
		for q := 0; q < max(1, p.RxQueues()); q++ {
			c := e.cores[next%len(e.cores)]
			c.rxq = append(c.rxq, rxQueue{port: pi, queue: q})
			next++
		}
	}
	return e, nil
}

// now returns monotonic nanoseconds since the engine was made.
func (e *Engine) now() int64 { return int64(time.Since(e.start)) }

// Start launches one poll loop per core and returns at once.
func (e *Engine) Start() error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("engine: already running")
	}
	for i, c := range e.cores {
		e.wg.Add(1)
		go func(c *core, cpu int) {
			defer e.wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if e.cfg.Pin {
				if err := pinToCPU(cpu); err != nil {
					e.setErr(fmt.Errorf("core %d: pin to CPU %d: %w", c.id, cpu, err))
				}
			}
			c.loop()
		}(c, e.cfg.Cores[i])
	}
	return nil
}

func (e *Engine) setErr(err error) {
	e.errMu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.errMu.Unlock()
}

// Err returns the first error a core reported (for example a failed pin).
func (e *Engine) Err() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return e.err
}

// Stop asks the cores to finish their current burst, waits for them and
// flushes buffered ports.
func (e *Engine) Stop() {
	e.stop.Store(true)
	e.wg.Wait()
	e.flushPorts()
}

func (e *Engine) flushPorts() {
	for _, p := range e.cfg.Ports {
		if f, ok := p.(Flusher); ok {
			if err := f.Flush(); err != nil {
				e.setErr(fmt.Errorf("port %s: flush: %w", p.Name(), err))
			}
		}
	}
}

// RunOffline processes every frame of finite (pcap) ports on the calling
// goroutine with core 0, then whatever the processing itself produced,
// and returns when nothing is left, flushing the ports. Packets still
// waiting for a neighbour at the end are dropped and counted.
func (e *Engine) RunOffline(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("engine: already running")
	}
	c := e.cores[0]
	// Core 0 polls every queue in offline mode.
	c.rxq = c.rxq[:0]
	for pi, p := range e.cfg.Ports {
		for q := 0; q < max(1, p.RxQueues()); q++ {
			c.rxq = append(c.rxq, rxQueue{port: pi, queue: q})
		}
	}
	for quiet := 0; quiet < 3; {
		if ctx.Err() != nil {
			break
		}
		if c.poll() > 0 || len(c.ctx.inject) > 0 || len(c.ctx.host) > 0 {
			quiet = 0
			continue
		}
		if !e.inputDone() {
			continue
		}
		quiet++
	}
	// No more input can answer held packets: shutdown drops them.
	c.shutdown()
	e.flushPorts()
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.Err()
}

// inputDone reports whether every port's input has ended (false when
// any port is not finite).
func (e *Engine) inputDone() bool {
	for _, p := range e.cfg.Ports {
		f, ok := p.(Finite)
		if !ok || !f.RxDone() {
			return false
		}
	}
	return true
}

// Offline reports whether every port is finite, so RunOffline applies.
func (e *Engine) Offline() bool {
	for _, p := range e.cfg.Ports {
		if _, ok := p.(Finite); !ok {
			return false
		}
	}
	return true
}

// Stats returns each core's counters.
func (e *Engine) Stats() []stats.CoreSnapshot {
	out := make([]stats.CoreSnapshot, len(e.cores))
	for i, c := range e.cores {
		out[i] = c.stats.Snapshot()
	}
	return out
}

// Total returns the sum of all cores' counters.
func (e *Engine) Total() stats.CoreSnapshot {
	var t stats.CoreSnapshot
	for _, c := range e.cores {
		t.Add(c.stats.Snapshot())
	}
	return t
}

// Ports returns the configured ports.
func (e *Engine) Ports() []Port { return e.cfg.Ports }

// SetRoutes replaces the static routes without stopping the cores.
func (e *Engine) SetRoutes(routes []Route) error {
	cfg := e.cfg
	cfg.Routes = routes
	if err := cfg.validate(); err != nil {
		return err
	}
	e.tables.Store(buildTables(&cfg))
	e.cfg.Routes = routes
	return nil
}

// Neighbor returns the MAC learned or configured for ip on port.
func (e *Engine) Neighbor(ip netip.Addr, port int) ([6]byte, bool) {
	return e.neigh.lookup(ip, port)
}
