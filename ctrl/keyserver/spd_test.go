package keyserver

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

func spdAddMsg(dir uint8, prio uint32) *pfkey.Msg {
	src, dst := "10.1.0.0/16", "10.2.0.0/16"
	if dir == pfkey.DirInbound || dir == pfkey.DirFwd {
		src, dst = dst, src
	}
	return &pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDAdd},
		Src: selAddr(src, pfkey.ProtoAny, 0), Dst: selAddr(dst, pfkey.ProtoAny, 0),
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: dir, Priority: prio,
			Requests: []pfkey.IPsecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire, ReqID: 1,
				Src: netip.MustParseAddrPort("192.0.2.1:0"), Dst: netip.MustParseAddrPort("192.0.2.2:0")}}}}
}

// TestSPD: SPDADD for in, fwd and out (ids n<<3|dir, as Linux setkey
// reads them), priority conversion, SPDGET, SPDDUMP, SPDDELETE by
// selector and by id, SPDUPDATE, SPDFLUSH, and their broadcasts.
func TestSPD(t *testing.T) {
	e := newEnv(t, "auto")
	a, b := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	ids := map[uint8]uint32{}
	for _, dir := range []uint8{pfkey.DirInbound, pfkey.DirFwd, pfkey.DirOutbound} {
		r := a.ok(spdAddMsg(dir, prioBase-10))
		if r.Policy == nil || r.Policy.ID == 0 || r.Policy.ID%8 >= 3 {
			t.Fatalf("SPDADD reply policy %+v", r.Policy)
		}
		ids[dir] = r.Policy.ID
		if m := b.recv(); m.Type != pfkey.MsgSPDAdd || m.Policy.ID != r.Policy.ID {
			t.Errorf("SPDADD broadcast %+v", m.Policy)
		}
	}
	if ids[pfkey.DirInbound]%8 != uint32(spd.DirIn) || ids[pfkey.DirOutbound]%8 != uint32(spd.DirOut) || ids[pfkey.DirFwd]%8 != uint32(spd.DirFwd) {
		t.Errorf("ids %v", ids)
	}
	p, ok := e.m.SPD.Get(ids[pfkey.DirOutbound])
	if !ok || p.Priority != 10 || p.Dir != spd.DirOut || p.Requests[0].ReqID != 1 {
		t.Fatalf("installed %+v", p)
	}
	if r := a.roundTrip(spdAddMsg(pfkey.DirOutbound, prioBase)); r.Errno != syscall.EEXIST {
		t.Errorf("duplicate SPDADD: errno %v", r.Errno)
	}
	g := a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDGet}, Policy: &pfkey.Policy{ID: ids[pfkey.DirOutbound], Dir: pfkey.DirOutbound}})
	if g.Policy.Priority != prioBase-10 || g.Policy.Dir != pfkey.DirOutbound || len(g.Policy.Requests) != 1 ||
		g.Src.PrefixLen != 16 || g.Src.Addr.Addr() != netip.MustParseAddr("10.1.0.0") || g.LifetimeCurrent == nil {
		t.Errorf("SPDGET %+v %+v", g.Policy, g.Src)
	}
	b.none()
	a.send(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDDump}})
	for i := 2; i >= 0; i-- {
		if m := a.recv(); m.Type != pfkey.MsgSPDDump || m.Seq != uint32(i) || m.Policy == nil {
			t.Fatalf("SPDDUMP %d: %+v", i, m.Header)
		}
	}
	// SPDUPDATE replaces (keeping the id) or adds.
	up := spdAddMsg(pfkey.DirOutbound, prioBase-20)
	up.Type = pfkey.MsgSPDUpdate
	if r := a.ok(up); r.Policy.ID != ids[pfkey.DirOutbound] {
		t.Errorf("SPDUPDATE id %d, want %d", r.Policy.ID, ids[pfkey.DirOutbound])
	}
	b.recv()
	if p, _ := e.m.SPD.Get(ids[pfkey.DirOutbound]); p.Priority != 20 {
		t.Errorf("priority after SPDUPDATE %d", p.Priority)
	}
	del := spdAddMsg(pfkey.DirInbound, 0)
	del.Type = pfkey.MsgSPDDelete
	if r := a.ok(del); r.Policy.ID != ids[pfkey.DirInbound] {
		t.Errorf("SPDDELETE reply id %d", r.Policy.ID)
	}
	b.recv()
	if r := a.roundTrip(del); r.Errno != syscall.ESRCH {
		t.Errorf("SPDDELETE again: errno %v", r.Errno)
	}
	a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDDelete2}, Policy: &pfkey.Policy{ID: ids[pfkey.DirFwd]}})
	if m := b.recv(); m.Type != pfkey.MsgSPDDelete2 || m.Policy.ID != ids[pfkey.DirFwd] {
		t.Errorf("SPDDELETE2 broadcast %+v", m.Policy)
	}
	if e.m.SPD.Len() != 1 {
		t.Errorf("%d policies left, want 1", e.m.SPD.Len())
	}
	a.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDFlush}})
	b.recv()
	if e.m.SPD.Len() != 0 {
		t.Errorf("%d policies after SPDFLUSH", e.m.SPD.Len())
	}
	if r := a.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDDump}}); r.Errno != syscall.ENOENT {
		t.Errorf("empty SPDDUMP: errno %v", r.Errno)
	}
}

func TestPriorityConversion(t *testing.T) {
	for _, c := range []struct {
		wire uint32
		prio int32
	}{{prioBase, 0}, {prioBase - 10, 10}, {prioBase + 5, -5}, {0, 1<<31 - 1}, {0xffffffff, -(1<<31 - 1)}} {
		if got := prioFromWire(c.wire); got != c.prio {
			t.Errorf("prioFromWire(%#x) = %d, want %d", c.wire, got, c.prio)
		}
	}
	for _, p := range []int32{0, 10, -5, 1<<31 - 1, -(1<<31 - 1)} {
		if got := prioFromWire(prioToWire(p)); got != p {
			t.Errorf("round trip of %d: %d", p, got)
		}
	}
	if prioToWire(-1<<31) != 0xffffffff {
		t.Errorf("lowest priority %#x", prioToWire(-1<<31))
	}
}

// TestKernelMessages: EXPIRE (soft and hard) from the dataplane's
// lifetime events, ACQUIRE from the policy engine and SPDEXPIRE from the
// timer reach the registered clients only.
func TestKernelMessages(t *testing.T) {
	e := newEnv(t, "auto")
	reg, other := e.dial(pfkey.Linux), e.dial(pfkey.Linux)
	reg.ok(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgRegister, SAType: pfkey.SATypeESP}})
	add := addMsg(0x3000, "192.0.2.1", "192.0.2.2")
	add.LifetimeSoft = &pfkey.Lifetime{Bytes: 1000}
	add.LifetimeHard = &pfkey.Lifetime{Bytes: 2000}
	seq := reg.ok(add).Seq
	other.recv()
	sa, _ := e.m.SAD.Get(50, netip.Addr{}, netip.MustParseAddr("192.0.2.2"), 0x3000)
	e.m.SAD.Raise(sa, sa.Account(1200, 1, time.Now().UnixNano()))
	m := reg.recv()
	if m.Type != pfkey.MsgExpire || m.SA.SPI != 0x3000 || m.LifetimeSoft == nil || m.LifetimeHard != nil ||
		m.LifetimeCurrent == nil || m.LifetimeCurrent.Bytes != 1200 || m.Seq != seq || m.EncKey != nil {
		t.Fatalf("soft EXPIRE %+v soft %+v hard %+v", m.Header, m.LifetimeSoft, m.LifetimeHard)
	}
	e.m.SAD.Raise(sa, sa.Account(1000, 1, time.Now().UnixNano()))
	m = reg.recv()
	if m.Type != pfkey.MsgExpire || m.LifetimeHard == nil || m.LifetimeHard.Bytes != 2000 || m.LifetimeSoft != nil {
		t.Fatalf("hard EXPIRE %+v", m)
	}
	for e.m.SAD.Len() != 0 { // the hard expiry removes it on the control goroutine
		time.Sleep(time.Millisecond)
	}

	// ACQUIRE: a policy without an SA.
	pol := spdAddMsg(pfkey.DirOutbound, prioBase)
	r := reg.ok(pol)
	other.recv()
	p, _ := e.m.SPD.Get(r.Policy.ID)
	e.m.Acquire(&p, &p.Requests[0], spd.Key{})
	m = reg.recv()
	if m.Type != pfkey.MsgAcquire || m.SAType != pfkey.SATypeESP || m.Seq == 0 || m.Policy == nil || m.Policy.ID != p.ID ||
		m.Src.Addr.Addr() != netip.MustParseAddr("192.0.2.1") || m.Proposal == nil || len(m.Proposal.Combs) == 0 {
		t.Fatalf("ACQUIRE %+v policy %+v", m.Header, m.Policy)
	}

	// SPDEXPIRE: a policy with a one-second lifetime.
	short := spdAddMsg(pfkey.DirInbound, prioBase)
	short.LifetimeHard = &pfkey.Lifetime{AddTime: 1}
	id := reg.ok(short).Policy.ID
	other.recv()
	m = reg.recv()
	if m.Type != pfkey.MsgSPDExpire || m.Policy == nil || m.Policy.ID != id {
		t.Fatalf("SPDEXPIRE %+v %+v", m.Header, m.Policy)
	}
	if _, ok := e.m.SPD.Get(id); ok {
		t.Error("expired policy still installed")
	}
	other.none()
}
