package spd

import (
	"net/netip"
	"testing"
)

// A `unique` request written without a reqid gets one of its own, above
// the manual range, different for every policy; a manual one is kept; an
// SPDUPDATE keeps the automatic reqid so SAs keyed for it stay bound.
func TestUniqueRequestsGetTheirOwnReqID(t *testing.T) {
	s := NewStore()
	gw := netip.MustParseAddr("192.0.2.1")
	reqs := func(l0, l1 Level, id1 uint32) []Request {
		return []Request{{Proto: 50, Mode: 2, Src: gw, Dst: gw, Level: l0}, {Proto: 51, Mode: 1, Level: l1, ReqID: id1}}
	}
	a := mustAdd(t, s, Policy{Dir: DirOut, Selector: sel("10.0.0.0/24", "10.1.0.0/24", AnyProto, AnyPort, AnyPort),
		Action: ActionIPsec, Requests: reqs(LevelUnique, LevelUnique, 7)})
	b := mustAdd(t, s, Policy{Dir: DirOut, Selector: sel("10.0.0.0/24", "10.2.0.0/24", AnyProto, AnyPort, AnyPort),
		Action: ActionIPsec, Requests: reqs(LevelUnique, LevelRequire, 0)})
	if a.Requests[0].ReqID <= MaxManualReqID || b.Requests[0].ReqID <= MaxManualReqID ||
		a.Requests[0].ReqID == b.Requests[0].ReqID {
		t.Fatalf("automatic reqids %d %d", a.Requests[0].ReqID, b.Requests[0].ReqID)
	}
	if a.Requests[1].ReqID != 7 || b.Requests[1].ReqID != 0 {
		t.Fatalf("manual reqid %d, require reqid %d", a.Requests[1].ReqID, b.Requests[1].ReqID)
	}
	k := key("10.0.0.1", "10.1.0.1", 6, 1, 2)
	if p := s.Lookup(DirOut, &k); p == nil || p.Requests[0].ReqID != a.Requests[0].ReqID {
		t.Fatalf("lookup sees %+v", p)
	}
	up := a
	up.Requests = reqs(LevelUnique, LevelUnique, 7)
	u, err := s.Update(up)
	if err != nil || u.Requests[0].ReqID != a.Requests[0].ReqID {
		t.Fatalf("Update: reqid %d, want %d (%v)", u.Requests[0].ReqID, a.Requests[0].ReqID, err)
	}
}

func TestGenMovesOnEveryChange(t *testing.T) {
	s := NewStore()
	g := s.Gen()
	step := func(what string) {
		t.Helper()
		if n := s.Gen(); n == g {
			t.Fatalf("%s: Gen did not move", what)
		} else {
			g = n
		}
	}
	p := mustAdd(t, s, Policy{Dir: DirIn, Selector: sel("::/0", "::/0", 58, port(135), port(0)), Action: ActionNone})
	step("Add")
	p.Action = ActionDiscard
	if _, err := s.Update(p); err != nil {
		t.Fatal(err)
	}
	step("Update")
	if _, err := s.DeleteID(p.ID); err != nil {
		t.Fatal(err)
	}
	step("DeleteID")
	s.Flush()
	step("Flush")
	k := key("::1", "::2", 58, 135, 0)
	if s.Lookup(DirIn, &k) != nil || s.Gen() != g {
		t.Fatal("Lookup changed something")
	}
}
