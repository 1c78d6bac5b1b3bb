package xform

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

func newSA(t testing.TB, esn bool, soft sad.Lifetime) *sad.SA {
	t.Helper()
	sa, err := sad.New(sad.Config{SPI: 0x100, Proto: sad.ProtoESP, Mode: sad.ModeTunnel,
		Enc: alg.EncAESGCM16, EncKey: make([]byte, 20), ESN: esn, Soft: soft,
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// advance uses sequence numbers up to last.
func advance(t testing.TB, sa *sad.SA, last uint64) {
	if _, ok := sa.ReserveSeq(int(last - sa.Seq())); !ok {
		t.Fatalf("cannot advance to %#x", last)
	}
}

func TestRuns(t *testing.T) {
	a, b := newSA(t, false, sad.Lifetime{}), newSA(t, false, sad.Lifetime{})
	var bk Books
	for _, c := range []struct {
		sas  []*sad.SA
		want []int
	}{
		{nil, nil},
		{[]*sad.SA{a}, []int{1}},
		{[]*sad.SA{a, a, b, nil, nil, a}, []int{2, 3, 5, 6}},
	} {
		got := bk.Runs(c.sas)
		if len(got) != len(c.want) {
			t.Fatalf("%v: runs %v, want %v", c.sas, got, c.want)
		}
		for k := range got {
			if got[k] != c.want[k] {
				t.Fatalf("runs %v, want %v", got, c.want)
			}
		}
	}
}

// Without ESN the last numbers below 2^32 are handed out, the rest of the
// run refused, and the SA hard-expires once; with ESN numbering goes on.
func TestReserve(t *testing.T) {
	var bk Books
	sa := newSA(t, false, sad.Lifetime{})
	if first, got := bk.Reserve(sa, 3); first != 1 || got != 3 || len(bk.Expired()) != 0 {
		t.Fatalf("fresh SA: first %d got %d, expiries %v", first, got, bk.Expired())
	}
	advance(t, sa, MaxSeq32-2)
	if first, got := bk.Reserve(sa, 5); first != MaxSeq32-1 || got != 2 {
		t.Fatalf("near the end: first %#x got %d", first, got)
	}
	if ev := bk.Expired(); len(ev) != 1 || ev[0].SA != sa || ev[0].Expiry&sad.ExpireHard == 0 {
		t.Fatalf("expiries %+v", ev)
	}
	bk.Begin()
	if _, got := bk.Reserve(sa, 1); got != 0 {
		t.Fatalf("spent SA handed out %d numbers", got)
	}

	bk.Begin()
	esn := newSA(t, true, sad.Lifetime{})
	advance(t, esn, MaxSeq32-1)
	if first, got := bk.Reserve(esn, 4); first != MaxSeq32 || got != 4 || len(bk.Expired()) != 0 {
		t.Fatalf("ESN: first %#x got %d, expiries %v", first, got, bk.Expired())
	}
}

// Settle counts successes, charges them to the lifetimes, counts the drops
// on the SA (not dummies) and reports a crossed soft lifetime.
func TestSettle(t *testing.T) {
	var bk Books
	sa := newSA(t, false, sad.Lifetime{Packets: 2})
	res := []stats.Reason{stats.ReasonNone, stats.ReasonBadICV, stats.ReasonDummy, stats.ReasonNone}
	if n := bk.Settle(sa, res, 300); n != 2 {
		t.Fatalf("settled %d, want 2", n)
	}
	if c := sa.Counters(); c.Bytes != 300 || c.Packets != 2 || c.Errors != 1 {
		t.Fatalf("counters %+v", c)
	}
	if ev := bk.Expired(); len(ev) != 1 || ev[0].Expiry != sad.ExpireSoft {
		t.Fatalf("expiries %+v", ev)
	}
	if n := bk.Settle(nil, []stats.Reason{stats.ReasonNoSA}, 0); n != 0 {
		t.Fatalf("run without SA settled %d", n)
	}
}

func TestHelpers(t *testing.T) {
	if Usable(nil) != stats.ReasonNoSA {
		t.Error("nil SA usable")
	}
	sa := newSA(t, false, sad.Lifetime{})
	if Usable(sa) != stats.ReasonNone {
		t.Error("fresh SA unusable")
	}
	sa.SetState(sad.StateDead)
	if Usable(sa) != stats.ReasonSAExpired {
		t.Error("dead SA usable")
	}
	res := make([]stats.Reason, 3)
	if !Live(res) {
		t.Error("fresh run not live")
	}
	Fail(res, stats.ReasonReplay)
	if Live(res) || res[2] != stats.ReasonReplay {
		t.Errorf("failed run %v", res)
	}
	for st, want := range map[alg.Status]stats.Reason{alg.BadICV: stats.ReasonBadICV,
		alg.BadSession: stats.ReasonSAExpired, alg.BadLength: stats.ReasonBadAHLength} {
		if got := StatusReason(st, stats.ReasonBadAHLength); got != want {
			t.Errorf("status %v: %v, want %v", st, got, want)
		}
	}
}

// The bookkeeping of a burst allocates nothing once its slices have grown.
func TestNoAllocs(t *testing.T) {
	sa := newSA(t, true, sad.Lifetime{})
	sas := []*sad.SA{sa, sa, nil, sa}
	res := []stats.Reason{stats.ReasonNone, stats.ReasonNone, stats.ReasonNoSA, stats.ReasonNone}
	var bk Books
	allocs := testing.AllocsPerRun(100, func() {
		bk.Begin()
		for _, j := range bk.Runs(sas) {
			bk.Reserve(sa, j)
		}
		bk.Settle(sa, res, 100)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per burst", allocs)
	}
}
