package ctrl

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// ACQUIREs from the cores reach every listener on the control goroutine,
// in order; a full queue drops and counts instead of blocking a core.
func TestAcquireReachesListeners(t *testing.T) {
	m := NewManager(nil)
	p := &spd.Policy{ID: 9, Action: spd.ActionIPsec, Requests: []spd.Request{{Proto: 50, Level: spd.LevelRequire}}}
	got := make(chan AcquireEvent, 8)
	m.OnAcquire(func(p *spd.Policy, r *spd.Request, key spd.Key) {
		got <- AcquireEvent{Policy: p, Request: r, Key: key}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	for i := range 3 {
		k := spd.KeyFor(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("203.0.113.1"), 17, uint16(i), 53)
		m.Acquire(p, &p.Requests[0], k)
	}
	for i := range 3 {
		select {
		case ev := <-got:
			if ev.Policy != p || ev.Request != &p.Requests[0] || ev.Key.SrcPort != uint16(i) || ev.Key.DstPort != 53 {
				t.Fatalf("event %d: %+v", i, ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never arrived", i)
		}
	}
	if m.AcquiresDropped() != 0 {
		t.Fatalf("dropped %d", m.AcquiresDropped())
	}
}

func TestAcquireNeverBlocks(t *testing.T) {
	m := NewManager(nil) // not running: nothing drains the queue
	p := &spd.Policy{Action: spd.ActionIPsec, Requests: []spd.Request{{Proto: 50}}}
	for range acquireQueue + 10 {
		m.Acquire(p, &p.Requests[0], spd.Key{})
	}
	if d := m.AcquiresDropped(); d != 10 {
		t.Fatalf("dropped %d, want 10", d)
	}
}
