package enc

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Flags of the enc header (OpenBSD's mbuf flags, as LINKTYPE_ENC carries
// them): how the SA protects the packet.
const (
	FlagConf   uint32 = 0x0400 // encrypted (ESP with a cipher)
	FlagAuth   uint32 = 0x0800 // authenticated (ESP integrity, AEAD, AH)
	FlagComp   uint32 = 0x1000 // compressed (IPComp)
	FlagAuthAH uint32 = 0x2000 // header authenticated (AH)
)

// Info describes a packet at the enc0 hook.
type Info struct {
	Dir   Dir
	SPI   uint32 // the SA's SPI (out: the first applied; in: the last removed)
	Flags uint32 // FlagConf, FlagAuth, ...
	// Tunnel marks the inner packet of a tunnel-mode SA; FilterTunnel is
	// the filtertunnel knob of the packet's family: rules see tunnel
	// packets only when both are set.
	Tunnel, FilterTunnel bool
}

// Interface is one enc device (enc0).
type Interface struct {
	name string
	cur  atomic.Pointer[View]

	mu    sync.Mutex
	taps  int
	rules []Rule
	comp  []compiled
	hits  *hits
	caps  []*Capture
}

// View is one published state of the interface: compiled rules, their
// hit counters and the active captures. It is immutable once published.
type View struct {
	rules []compiled
	hits  *hits
	caps  []*Capture
}

// hits counts rule matches, one row per tap (written only by its tap),
// rows padded apart so cores do not share cache lines.
type hits struct {
	stride int
	taps   int
	n      []atomic.Uint64
}

func newHits(taps, rules int) *hits {
	stride := (rules + 7) &^ 7
	return &hits{stride: stride, taps: taps, n: make([]atomic.Uint64, stride*taps)}
}

// New makes an interface named name (enc0).
func New(name string) *Interface { return &Interface{name: name, hits: newHits(0, 0)} }

// Name returns the interface's name.
func (e *Interface) Name() string { return e.name }

// Tap is one stage instance's hook into the interface; it must be used
// by one goroutine (its core).
type Tap struct {
	ifc *Interface
	id  int
}

// Attach makes a tap for one stage instance. Taps attach while the
// engine is built; rules set before apply to them, but a capture that
// was already running does not see what they see.
func (e *Interface) Attach() *Tap {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := &Tap{ifc: e, id: e.taps}
	e.taps++
	if len(e.comp) > 0 {
		// A row of hit counters for the new tap; the others keep theirs.
		h := newHits(e.taps, len(e.comp))
		for i := range e.hits.n {
			h.n[i].Store(e.hits.n[i].Load())
		}
		e.hits = h
		e.publish()
	}
	return t
}

// Load returns the current view, nil when there are no rules and no
// capture (the stage then has nothing to do). Load once per batch.
func (t *Tap) Load() *View { return t.ifc.cur.Load() }

// Pass shows the packet b (an IP packet, b.Meta's L4 hint set) to enc0:
// every active capture gets a copy, then the rules decide. It reports
// whether the packet may continue. v must come from Load.
func (t *Tap) Pass(v *View, b *pkt.Buf, in *Info) bool {
	if len(v.caps) > 0 {
		now := time.Now().UnixNano()
		for _, c := range v.caps {
			if t.id < len(c.rings) {
				c.rings[t.id].put(b.Bytes(), now, in)
			}
		}
	}
	if len(v.rules) == 0 || (in.Tunnel && !in.FilterTunnel) {
		return true
	}
	k, ok := spd.KeyFromPacket(b.Bytes(), b.Meta.L4Proto, int(b.Meta.L4Off))
	if !ok {
		return true
	}
	for i := range v.rules {
		r := &v.rules[i]
		if r.match(&k, in.Dir, in.SPI) {
			if h := v.hits; t.id < h.taps {
				h.n[t.id*h.stride+i].Add(1)
			}
			return !r.drop
		}
	}
	return true
}

// SetRules replaces the rule set (nil or empty: no filtering); hit
// counters start again from zero.
func (e *Interface) SetRules(rules []Rule) error {
	if len(rules) > MaxRules {
		return errors.New("enc: too many rules")
	}
	comp := make([]compiled, len(rules))
	for i, r := range rules {
		if r.Src.IsValid() && r.Dst.IsValid() && r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
			return errors.New("enc: rule " + r.String() + ": mixed address families")
		}
		comp[i] = compile(r)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules = append([]Rule(nil), rules...)
	e.comp = comp
	e.hits = newHits(e.taps, len(rules))
	e.publish()
	return nil
}

// Rules returns the rule set and each rule's matches so far.
func (e *Interface) Rules() ([]Rule, []uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	counts := make([]uint64, len(e.rules))
	h := e.hits
	for t := range h.taps {
		for i := range counts {
			counts[i] += h.n[t*h.stride+i].Load()
		}
	}
	return append([]Rule(nil), e.rules...), counts
}

// publish stores the view for the current state; e.mu is held.
func (e *Interface) publish() {
	if len(e.comp) == 0 && len(e.caps) == 0 {
		e.cur.Store(nil)
		return
	}
	e.cur.Store(&View{rules: e.comp, hits: e.hits, caps: append([]*Capture(nil), e.caps...)})
}
