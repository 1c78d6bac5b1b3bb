package stats

import "testing"

func TestEveryReasonHasAUniqueName(t *testing.T) {
	seen := map[string]Reason{}
	for r := Reason(0); r < NumReasons; r++ {
		name := r.String()
		if name == "unknown" || name == "" {
			t.Errorf("reason %d has no name", r)
		}
		if o, dup := seen[name]; dup {
			t.Errorf("reasons %d and %d share the name %q", o, r, name)
		}
		seen[name] = r
	}
	if NumReasons.String() != "unknown" {
		t.Error("out-of-range reason should be unknown")
	}
}

func TestCoreSnapshotSums(t *testing.T) {
	var a, b Core
	a.Drop(ReasonBadICV)
	a.AddRx(2, 100)
	b.DropN(ReasonBadICV, 3)
	b.Drop(ReasonNoRoute)
	s := a.Snapshot()
	s.Add(b.Snapshot())
	if s.Drop(ReasonBadICV) != 4 || s.Drops["bad-icv"] != 4 || s.TotalDrops() != 5 || s.RxPackets != 2 {
		t.Fatalf("bad sum: %+v", s)
	}
}
