package ctrl

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// TestPolicyUseLifetime: a policy idle longer than its use lifetime is
// deleted and reported (SPDEXPIRE); one a packet used in time lives on
// until it has been idle that long since; an SPDUPDATE disarms the old
// policy's timer.
func TestPolicyUseLifetime(t *testing.T) {
	m := NewManager(nil)
	var expired []spd.Policy
	m.OnPolicyExpire(func(p spd.Policy) { expired = append(expired, p) })
	sel := func(dst string) spd.Selector {
		return spd.Selector{Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix(dst),
			Proto: spd.AnyProto, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}
	}
	add := func(p spd.Policy) spd.Policy {
		t.Helper()
		got, err := m.SPD.Add(p)
		if err != nil {
			t.Fatal(err)
		}
		m.WatchPolicy(got)
		return got
	}
	used := add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionDiscard, Selector: sel("10.2.0.0/16"), UseLifetime: 10 * time.Second})
	unused := add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionDiscard, Selector: sel("10.3.0.0/16"), UseLifetime: 10 * time.Second})
	aged := add(spd.Policy{Dir: spd.DirOut, Action: spd.ActionDiscard, Selector: sel("10.4.0.0/16"),
		Lifetime: 15 * time.Second, UseLifetime: time.Hour})
	replaced := add(spd.Policy{Dir: spd.DirIn, Action: spd.ActionDiscard, Selector: sel("10.5.0.0/16"), UseLifetime: 10 * time.Second})
	if _, err := m.SPD.Update(spd.Policy{Dir: spd.DirIn, Action: spd.ActionDiscard, Selector: sel("10.5.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	t0 := used.Created
	// A packet matches `used` 8 s in (and `aged` then too), as a core stamps it.
	k := spd.KeyFor(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 17, 1, 2)
	m.SPD.Lookup(spd.DirOut, &k).MarkUsed(t0.Unix() + 8)
	k = spd.KeyFor(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.4.0.1"), 17, 1, 2)
	m.SPD.Lookup(spd.DirOut, &k).MarkUsed(t0.Unix() + 8)

	ids := func() (got []uint32) {
		for _, p := range expired {
			got = append(got, p.ID)
		}
		expired = nil
		return got
	}
	installed := func(p spd.Policy) bool { _, ok := m.SPD.Get(p.ID); return ok }
	m.expirePolicies(t0.Add(5 * time.Second))
	if got := ids(); len(got) != 0 {
		t.Fatalf("at 5 s: expired %v", got)
	}
	m.expirePolicies(t0.Add(11 * time.Second))
	if got := ids(); len(got) != 1 || got[0] != unused.ID || installed(unused) {
		t.Fatalf("at 11 s: expired %v, want only the unused policy %d", got, unused.ID)
	}
	if !installed(used) || !installed(replaced) {
		t.Fatal("at 11 s: a used or updated policy was removed")
	}
	m.expirePolicies(t0.Add(16 * time.Second))
	if got := ids(); len(got) != 1 || got[0] != aged.ID {
		t.Fatalf("at 16 s: expired %v, want the aged policy %d (lifetime, whatever its use)", got, aged.ID)
	}
	m.expirePolicies(t0.Add(17 * time.Second))
	if got := ids(); len(got) != 0 || !installed(used) {
		t.Fatalf("at 17 s (idle 9 s): expired %v", got)
	}
	m.expirePolicies(t0.Add(19 * time.Second))
	got := ids()
	if len(got) != 1 || got[0] != used.ID || installed(used) {
		t.Fatalf("at 19 s (idle 11 s): expired %v, want the used policy %d", got, used.ID)
	}
	if !installed(replaced) {
		t.Error("the replaced policy's old use timer removed its replacement")
	}
	m.expirePolicies(t0.Add(time.Hour))
	if got := ids(); len(got) != 0 {
		t.Errorf("later: expired %v", got)
	}
}
