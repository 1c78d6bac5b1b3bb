package keyserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// TestSPDExpireIdle: a policy added with a hard use lifetime (sadb_lifetime
// usetime) that no packet uses is removed by the timer and reported in a
// SADB_X_SPDEXPIRE to the registered client, with its current lifetime
// (created, last used); one a "core" keeps using stays past its own.
func TestSPDExpireIdle(t *testing.T) {
	e := newEnv(t, "linux")
	reg := e.dial(pfkey.Linux)
	reg.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgRegister, SAType: pfkey.SATypeESP}})
	idle := spdAddMsg(pfkey.DirInbound, prioBase)
	idle.LifetimeHard = &pfkey.Lifetime{UseTime: 1}
	id := reg.ok(idle).Policy.ID
	busy := spdAddMsg(pfkey.DirOutbound, prioBase)
	busy.LifetimeHard = &pfkey.Lifetime{UseTime: 2} // > 1 s: use is stamped to the second
	busyID := reg.ok(busy).Policy.ID
	if p, _ := e.m.SPD.Get(busyID); p.UseLifetime != 2*time.Second {
		t.Fatalf("use lifetime %v", p.UseLifetime)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a core forwarding through the busy policy
		k := spd.KeyFor(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 17, 1, 2)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if p := e.m.SPD.Lookup(spd.DirOut, &k); p != nil {
				p.MarkUsed(time.Now().Unix())
			}
		}
	}()
	m := reg.recv()
	if m.Type != pfkey.MsgSPDExpire || m.Policy == nil || m.Policy.ID != id || m.LifetimeHard == nil ||
		m.LifetimeHard.UseTime != 1 || m.LifetimeCurrent == nil || m.LifetimeCurrent.UseTime != m.LifetimeCurrent.AddTime {
		t.Fatalf("SPDEXPIRE %+v policy %+v hard %+v current %+v", m.Header, m.Policy, m.LifetimeHard, m.LifetimeCurrent)
	}
	if _, ok := e.m.SPD.Get(id); ok {
		t.Error("idle policy still installed")
	}
	time.Sleep(1500 * time.Millisecond) // past the busy policy's use lifetime since it was added
	reg.none()
	g := reg.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDGet}, Policy: &pfkey.Policy{ID: busyID, Dir: pfkey.DirOutbound}})
	if g.LifetimeCurrent == nil || g.LifetimeCurrent.UseTime < g.LifetimeCurrent.AddTime {
		t.Errorf("busy policy's current lifetime %+v", g.LifetimeCurrent)
	}
}
