// Package ctrl is the control plane: it applies keying and policy
// changes to the SAD and SPD, runs the control timer (time lifetimes,
// expiry events, key wiping) and holds the knobs.
//
//	setkey file / PF_KEY ─► Manager.Apply ─► sad.Store, spd.Store (atomic publish) ─► cores
//	cores ─► sad events (soft/hard expiry) ─► Manager.Run ─► delete + wipe, listeners (SADB_EXPIRE)
//	cores ─► Manager.Acquire (bounded, non-blocking) ─► Run: blockacq ─► listeners (SADB_ACQUIRE)
//	timer ─► policy lifetimes, idle time (cores stamp last use) ─► SPD delete ─► listeners (SADB_X_SPDEXPIRE)
package ctrl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Manager owns the databases on the control side.
type Manager struct {
	SAD   *sad.Store
	SPD   *spd.Store
	Knobs *knobs.Holder
	log   *zap.Logger

	mu        sync.Mutex
	listeners []func(sa *sad.SA, e sad.Expiry)

	acq acquirer     // ACQUIRE queue and blocking (acquire.go)
	pol policyTimers // policy lifetimes (policylife.go)
}

// NewManager makes a manager over fresh databases with FreeBSD's knobs.
func NewManager(log *zap.Logger) *Manager {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Manager{SAD: sad.NewStore(), SPD: spd.NewStore(), Knobs: knobs.NewHolder(knobs.Defaults()), log: log}
	m.acq.init()
	return m
}

// OnExpire registers a listener for SA expiries (the PF_KEY server sends
// SADB_EXPIRE from it). Listeners run on the control goroutine.
func (m *Manager) OnExpire(fn func(sa *sad.SA, e sad.Expiry)) {
	m.mu.Lock()
	m.listeners = append(m.listeners, fn)
	m.mu.Unlock()
}

// Run services expiry events, ACQUIREs and the lifetime timer until ctx
// ends.
func (m *Manager) Run(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-m.SAD.Events():
			m.expired(ev.SA, ev.Expiry)
		case a := <-m.acq.q:
			m.acquired(a, time.Now())
		case now := <-tick.C:
			m.SAD.Tick(now)
			m.expireAcquires(now)
			m.expirePolicies(now)
		}
	}
}

// expired handles one expiry: listeners hear of it; a hard expiry removes
// the SA (its keys are wiped after the readers' grace period).
func (m *Manager) expired(sa *sad.SA, e sad.Expiry) {
	m.log.Info("SA expired", zap.Stringer("sa", sa), zap.Bool("hard", e&sad.ExpireHard != 0))
	m.mu.Lock()
	ls := append([]func(*sad.SA, sad.Expiry){}, m.listeners...)
	m.mu.Unlock()
	for _, fn := range ls {
		fn(sa, e)
	}
	if e&sad.ExpireHard != 0 {
		if old, err := m.SAD.Delete(sa.Proto, sa.Src, sa.Dst, sa.SPI); err == nil {
			m.SAD.Retire(old)
		}
	}
}

// Sysctl sets knobs (name, value) pairs: all or none.
func (m *Manager) Sysctl(kv [][2]string) error { return m.Knobs.SetMany(kv) }

// ApplySetkey carries out setkey(8) commands (a configuration file's):
// add, delete, deleteall, flush, spdadd, spdupdate, spddelete, spdflush.
// get, dump and spddump change nothing and are ignored here. Each
// failing command is reported with its line; the others still apply.
func (m *Manager) ApplySetkey(file string, cmds []setkey.Command) error {
	var errs []error
	now := time.Now()
	for _, c := range cmds {
		if err := m.apply(c, now); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %w", file, c.Line, c.Op, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) apply(c setkey.Command, now time.Time) error {
	switch c.Op {
	case setkey.OpAdd:
		sa, err := sad.New(c.SA.Config, now)
		if err != nil {
			return err
		}
		return m.SAD.Add(sa)
	case setkey.OpDelete:
		old, err := m.SAD.Delete(c.SA.Config.Proto, c.SA.Config.Src, c.SA.Config.Dst, c.SA.Config.SPI)
		if err != nil {
			return err
		}
		m.SAD.Retire(old)
	case setkey.OpDeleteAll:
		for _, old := range m.SAD.DeleteAll(c.SA.Config.Proto, c.SA.Config.Src, c.SA.Config.Dst) {
			m.SAD.Retire(old)
		}
	case setkey.OpFlush:
		for _, old := range m.SAD.Flush(c.Proto) {
			m.SAD.Retire(old)
		}
	case setkey.OpSPDAdd:
		_, err := m.SPD.Add(PolicyFromSetkey(c.Policy))
		return err
	case setkey.OpSPDUpdate:
		_, err := m.SPD.Update(PolicyFromSetkey(c.Policy))
		return err
	case setkey.OpSPDDelete:
		p := PolicyFromSetkey(c.Policy)
		_, err := m.SPD.Delete(p.Dir, p.Selector)
		return err
	case setkey.OpSPDFlush:
		m.SPD.Flush()
	}
	return nil
}

// PolicyFromSetkey converts a parsed setkey policy into an SPD policy.
func PolicyFromSetkey(p *setkey.Policy) spd.Policy {
	sel := spd.Selector{Src: p.Src, Dst: p.Dst, Proto: p.Proto,
		SrcPort: portRange(p.SrcPort), DstPort: portRange(p.DstPort)}
	if p.Proto < 0 || p.Proto > 255 {
		sel.Proto = spd.AnyProto
	}
	if p.ICMPType >= 0 {
		sel.SrcPort = spd.PortRange{Lo: uint16(p.ICMPType), Hi: uint16(p.ICMPType)}
		if p.ICMPCode >= 0 {
			sel.DstPort = spd.PortRange{Lo: uint16(p.ICMPCode), Hi: uint16(p.ICMPCode)}
		}
	}
	out := spd.Policy{Dir: dirFromSetkey(p.Dir), Priority: p.Priority, Selector: sel, Action: p.Action}
	for _, r := range p.Requests {
		out.Requests = append(out.Requests, spd.Request{Proto: r.Proto, Mode: r.Mode, Src: r.Src, Dst: r.Dst,
			Level: r.Level, ReqID: r.ReqID})
	}
	return out
}

func portRange(p uint16) spd.PortRange {
	if p == 0 {
		return spd.PortRange{Lo: 0, Hi: 65535}
	}
	return spd.PortRange{Lo: p, Hi: p}
}

func dirFromSetkey(d setkey.Dir) spd.Dir {
	switch d {
	case setkey.DirIn:
		return spd.DirIn
	case setkey.DirFwd:
		return spd.DirFwd
	}
	return spd.DirOut
}
