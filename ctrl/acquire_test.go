package ctrl

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

func tunnelPolicy(t *testing.T, m *Manager) *spd.Policy {
	t.Helper()
	p, err := m.SPD.Add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionIPsec,
		Selector: spd.Selector{Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/16"),
			Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort},
		Requests: []spd.Request{{Proto: sad.ProtoESP, Mode: sad.ModeTunnel, Level: spd.LevelRequire, ReqID: 7,
			Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}}})
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestAcquireSeq follows key.c: repeats of a pending acquire (the cores
// space them by blockacq_count) carry its sequence number; after
// blockacq_lifetime, or once answered, a new one starts.
func TestAcquireSeq(t *testing.T) {
	m := NewManager(nil)
	if err := m.Sysctl([][2]string{{"net.key.blockacq_count", "2"}, {"net.key.blockacq_lifetime", "20"}}); err != nil {
		t.Fatal(err)
	}
	var got []Acquire
	m.OnAcquire(func(a Acquire) { got = append(got, a) })
	p := tunnelPolicy(t, m)
	now := time.Now()
	for range 4 {
		m.Acquire(p, &p.Requests[0], spd.Key{})
		m.acquired(<-m.acq.q, now)
	}
	if len(got) != 4 || got[0].Seq != got[3].Seq || got[0].Seq == 0 {
		t.Fatalf("acquires %+v, want 4 with one seq", got)
	}
	a := got[0]
	if a.Src != netip.MustParseAddr("192.0.2.1") || a.Dst != netip.MustParseAddr("192.0.2.2") || a.Request != 0 || a.Policy.ID != p.ID {
		t.Errorf("acquire %+v", a)
	}
	m.expireAcquires(now.Add(21 * time.Second))
	m.acquired(Acquire{Policy: p}, now)
	if len(got) != 5 || got[4].Seq == a.Seq {
		t.Fatalf("after blockacq_lifetime: %+v", got)
	}
	m.AcquireAnswered(got[4].Seq)
	m.acquired(Acquire{Policy: p}, now)
	if len(got) != 6 || got[5].Seq == got[4].Seq {
		t.Fatalf("after the answer: %+v", got)
	}
}

// TestAcquireNeverBlocks: the cores' entry point drops when the queue is
// full rather than wait.
func TestAcquireNeverBlocks(t *testing.T) {
	m := NewManager(nil)
	p := tunnelPolicy(t, m)
	for range acquireQueue + 10 {
		m.Acquire(p, &p.Requests[0], spd.Key{})
	}
	if m.AcquiresDropped() != 10 {
		t.Errorf("dropped %d, want 10", m.AcquiresDropped())
	}
	m.Acquire(p, &spd.Request{}, spd.Key{}) // not one of p's requests: ignored
}

// TestAcquireTransportEndpoints: a transport request's SA runs between
// the packet's addresses, or, after a tunnel request in a bundle, between
// the tunnel's endpoints.
func TestAcquireTransportEndpoints(t *testing.T) {
	m := NewManager(nil)
	var got []Acquire
	m.OnAcquire(func(a Acquire) { got = append(got, a) })
	gwA, gwB := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	p, err := m.SPD.Add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionIPsec,
		Selector: spd.Selector{Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/16"),
			Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort},
		Requests: []spd.Request{
			{Proto: sad.ProtoAH, Mode: sad.ModeTransport, Level: spd.LevelRequire},
			{Proto: sad.ProtoIPComp, Mode: sad.ModeTunnel, Level: spd.LevelUse, Src: gwA, Dst: gwB},
			{Proto: sad.ProtoESP, Mode: sad.ModeTransport, Level: spd.LevelRequire}}})
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := netip.MustParseAddr("10.1.0.5"), netip.MustParseAddr("10.2.0.9")
	key := spd.KeyFor(h1, h2, 17, 1000, 2000)
	for k := range p.Requests {
		m.Acquire(&p, &p.Requests[k], key)
		m.acquired(<-m.acq.q, time.Now())
	}
	want := [][2]netip.Addr{{h1, h2}, {gwA, gwB}, {gwA, gwB}}
	if len(got) != 3 {
		t.Fatalf("%d acquires", len(got))
	}
	for k, a := range got {
		if a.Src != want[k][0] || a.Dst != want[k][1] || a.Key != key {
			t.Errorf("request %d: acquire between %s and %s (key %+v), want %v", k, a.Src, a.Dst, a.Key, want[k])
		}
	}
}

func TestPolicyLifetime(t *testing.T) {
	m := NewManager(nil)
	var expired []spd.Policy
	m.OnPolicyExpire(func(p spd.Policy) { expired = append(expired, p) })
	sel := func(dst string) spd.Selector {
		return spd.Selector{Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix(dst),
			Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}
	}
	short, _ := m.SPD.Add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionDiscard, Selector: sel("10.2.0.0/16"), Lifetime: time.Second})
	long, _ := m.SPD.Add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionDiscard, Selector: sel("10.3.0.0/16"), Lifetime: time.Hour})
	replaced, _ := m.SPD.Add(spd.Policy{Dir: spd.DirIn, Action: spd.ActionDiscard, Selector: sel("10.4.0.0/16"), Lifetime: time.Second})
	for _, p := range []spd.Policy{short, long, replaced} {
		m.WatchPolicy(p)
	}
	time.Sleep(time.Millisecond)
	// An SPDUPDATE restarts the lifetime: the old timer must not fire.
	upd, _ := m.SPD.Update(spd.Policy{Dir: spd.DirIn, Action: spd.ActionDiscard, Selector: sel("10.4.0.0/16")})
	m.expirePolicies(time.Now().Add(2 * time.Second))
	if len(expired) != 1 || expired[0].ID != short.ID {
		t.Fatalf("expired %+v, want only %d", expired, short.ID)
	}
	if _, ok := m.SPD.Get(short.ID); ok {
		t.Error("expired policy still installed")
	}
	if _, ok := m.SPD.Get(upd.ID); !ok {
		t.Error("updated policy removed by the old timer")
	}
	if _, ok := m.SPD.Get(long.ID); !ok {
		t.Error("long-lived policy removed")
	}
}

// TestAcquireDoesNotAllocate: the cores call Acquire per packet without
// an SA; it must not allocate, queued or dropped.
func TestAcquireDoesNotAllocate(t *testing.T) {
	m := NewManager(nil)
	p := tunnelPolicy(t, m)
	if n := testing.AllocsPerRun(2*acquireQueue, func() { m.Acquire(p, &p.Requests[0], spd.Key{}) }); n != 0 {
		t.Errorf("%v allocations per Acquire", n)
	}
}
