package sad

import (
	"bytes"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// drain returns the events queued now.
func drain(s *Store) []Event {
	var evs []Event
	for {
		select {
		case e := <-s.Events():
			evs = append(evs, e)
		default:
			return evs
		}
	}
}

func TestAccountEvents(t *testing.T) {
	s := NewStore()
	sa := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x100,
		Soft: Lifetime{Packets: 10}, Hard: Lifetime{Packets: 20}})
	mustAdd(t, s, sa)
	var got []Expiry
	for range 30 {
		s.Raise(sa, sa.Account(100, 1, t0.UnixNano()))
		for _, e := range drain(s) {
			if e.SA != sa || e.Time.IsZero() {
				t.Fatalf("event %+v", e)
			}
			got = append(got, e.Expiry)
		}
		s.Tick(t0)
	}
	if len(got) != 2 || got[0] != ExpireSoft || got[1] != ExpireHard {
		t.Fatalf("events %v, want soft then hard", got)
	}
	if sa.State() != StateDead {
		t.Fatalf("state %v", sa.State())
	}
}

func TestTimeEvents(t *testing.T) {
	s := NewStore()
	sa := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x100,
		Soft: Lifetime{AddTime: 10 * time.Second}, Hard: Lifetime{AddTime: 20 * time.Second}})
	use := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x101,
		Hard: Lifetime{UseTime: 5 * time.Second}})
	mustAdd(t, s, sa, use)
	steps := []struct {
		at   time.Duration
		want map[*SA]Expiry
	}{
		{5 * time.Second, nil},
		{9 * time.Second, nil},
		{11 * time.Second, map[*SA]Expiry{sa: ExpireSoft}},
		{12 * time.Second, nil},
		{13 * time.Second, nil},
		{21 * time.Second, map[*SA]Expiry{sa: ExpireHard}},
		{22 * time.Second, nil},
		{30 * time.Second, map[*SA]Expiry{use: ExpireHard}},
		{40 * time.Second, nil},
	}
	for _, st := range steps {
		if st.at == 30*time.Second {
			use.Account(1, 1, t0.Add(24*time.Second).UnixNano())
		}
		now := t0.Add(st.at)
		s.Tick(now)
		got := map[*SA]Expiry{}
		for _, e := range drain(s) {
			got[e.SA] |= e.Expiry
			if !e.Time.Equal(now) {
				t.Fatalf("event time %v, want %v", e.Time, now)
			}
		}
		if len(got) != len(st.want) {
			t.Fatalf("at %v: events %v, want %v", st.at, got, st.want)
		}
		for k, v := range st.want {
			if got[k] != v {
				t.Fatalf("at %v: %v got %v, want %v", st.at, k, got[k], v)
			}
		}
	}
}

// TestEventsFull: with the channel full, expiries are counted and then
// delivered by Tick, never lost: from the parked slots, or when those are
// full too, from the sweep of the index.
func TestEventsFull(t *testing.T) {
	s := NewStore()
	filler := mk(t, ProtoESP, a1, a2, 0x100)
	mustAdd(t, s, filler)
	for range eventQueue {
		s.Raise(filler, ExpireSoft)
	}
	const n = parkSlots + 500
	sas := make([]*SA, n)
	for i := range sas {
		sas[i] = mk(t, ProtoESP, v4(172, i), v4(10, i), uint32(0x1000+i))
		mustAdd(t, s, sas[i])
	}
	for i, sa := range sas {
		e := ExpireSoft
		if i%2 == 0 {
			e = ExpireHard
		}
		s.Raise(sa, sa.ExpireNow(e))
	}
	s.Raise(filler, ExpireNone) // ignored
	if s.DroppedEvents() != n || s.parkedN.Load() > parkSlots || s.lostGen.Load() == 0 {
		t.Fatalf("dropped %d, parked %d, lost %d", s.DroppedEvents(), s.parkedN.Load(), s.lostGen.Load())
	}
	s.Tick(t0) // channel still full: nothing delivered, still kept
	if s.DroppedEvents() <= n {
		t.Fatalf("dropped %d", s.DroppedEvents())
	}
	if got := len(drain(s)); got != eventQueue {
		t.Fatalf("drained %d", got)
	}
	got := map[*SA]Expiry{}
	for k := 1; k <= 12; k++ {
		s.Tick(t0.Add(time.Duration(k) * 100 * time.Millisecond))
		for _, e := range drain(s) {
			if got[e.SA] != 0 {
				t.Fatalf("%v delivered twice", e.SA)
			}
			got[e.SA] = e.Expiry
		}
		if k == 1 && len(got) < parkSlots/2 {
			t.Fatalf("parked expiries not delivered at the next Tick: %d", len(got))
		}
	}
	for i, sa := range sas {
		if want := Expiry(ExpireSoft << (1 - i%2)); got[sa] != want {
			t.Fatalf("SA %d: got %v, want %v", i, got[sa], want)
		}
	}
	if s.parkedN.Load() != 0 {
		t.Fatalf("parked %d", s.parkedN.Load())
	}
}

func TestRetire(t *testing.T) {
	s := NewStore()
	s.SetGrace(500 * time.Millisecond)
	key := bytes.Repeat([]byte{0xaa}, 20)
	x := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x100, Enc: alg.EncAESGCM16, EncKey: key})
	live := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x101, Enc: alg.EncAESGCM16, EncKey: key})
	mustAdd(t, s, x, live)
	s.Retire(live) // still installed: ignored
	old, err := s.Delete(ProtoESP, a1, a2, 0x100)
	if err != nil {
		t.Fatal(err)
	}
	s.Retire(old)
	s.Retire(nil)
	steps := []struct {
		at    time.Duration
		wiped bool
	}{
		{0, false},                      // stamped: due at 500 ms
		{499 * time.Millisecond, false}, // a reader may still hold it
		{500 * time.Millisecond, true},
	}
	for _, st := range steps {
		s.Tick(t0.Add(st.at))
		if w := x.EncKey[0] == 0; w != st.wiped {
			t.Fatalf("at %v: wiped %v, want %v", st.at, w, st.wiped)
		}
	}
	if live.EncKey[0] == 0 || live.State() != StateMature {
		t.Fatal("installed SA wiped")
	}
	if len(s.retired) != 0 {
		t.Fatalf("%d retirees left", len(s.retired))
	}
}

func TestLarvalLifetime(t *testing.T) {
	s := NewStore()
	s.SetLarvalLifetime(30 * time.Second)
	s.SetGrace(0)
	l, err := s.GetSPI(ProtoESP, a1, a2, 0, 0, 0, ModeAny, t0)
	if err != nil {
		t.Fatal(err)
	}
	s.Tick(t0.Add(29 * time.Second))
	if s.Len() != 1 {
		t.Fatal("larval SA removed early")
	}
	s.Tick(t0.Add(30 * time.Second))
	if s.Len() != 0 || l.State() != StateDead {
		t.Fatalf("larval SA kept: len %d, %v", s.Len(), l)
	}
	if evs := drain(s); len(evs) != 0 {
		t.Fatalf("larval removal raised %v", evs)
	}
}

// TestTimers: each SA is checked at the first Tick after its deadline,
// raises each expiry once, and leaves the timer array when nothing is
// left to fire or when deleted.
func TestTimers(t *testing.T) {
	s := NewStore()
	const n = 20000
	err := s.Apply(func(tx *Txn) error {
		for i := range n {
			sa := mkc(t, Config{Proto: ProtoESP, Src: v4(172, i), Dst: v4(10, i), SPI: uint32(0x1000 + i),
				Soft: Lifetime{AddTime: time.Second + time.Duration(i%1000)*time.Millisecond},
				Hard: Lifetime{AddTime: 3*time.Second + time.Duration(i%1000)*time.Millisecond}})
			if err := tx.Add(sa); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.timers) != n {
		t.Fatalf("%d timers", len(s.timers))
	}
	soft, hard := map[*SA]bool{}, map[*SA]bool{}
	for k := 0; k <= 40; k++ {
		now := t0.Add(time.Duration(k) * 100 * time.Millisecond)
		s.Tick(now)
		for _, e := range drain(s) {
			m := soft
			if e.Expiry == ExpireHard {
				m = hard
			}
			if m[e.SA] {
				t.Fatalf("%v raised %v twice", e.SA, e.Expiry)
			}
			m[e.SA] = true
			if d := now.Sub(e.SA.Added().Add(e.SA.Soft.AddTime)); e.Expiry == ExpireSoft && (d < 0 || d >= 100*time.Millisecond) {
				t.Fatalf("soft expiry %v after its deadline", d)
			}
		}
		if k == 25 && len(soft) != n {
			t.Fatalf("%d soft expiries by 2.5 s", len(soft))
		}
	}
	if len(hard) != n || len(s.timers) != 0 {
		t.Fatalf("%d hard expiries, %d timers left", len(hard), len(s.timers))
	}

	// Use time: armed from now while unused, then from the first use.
	u := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x100, Hard: Lifetime{UseTime: 10 * time.Second}})
	v := mkc(t, Config{Proto: ProtoESP, Src: a1, Dst: a2, SPI: 0x101, Hard: Lifetime{AddTime: time.Hour}})
	mustAdd(t, s, u, v)
	for sec := 1; sec <= 40; sec++ {
		if sec == 25 {
			u.Account(1, 1, t0.Add(25*time.Second).UnixNano())
		}
		s.Tick(t0.Add(time.Duration(sec) * time.Second))
		evs := drain(s)
		if want := sec == 35; (len(evs) == 1) != want || want && evs[0].SA != u {
			t.Fatalf("at %d s: %v", sec, evs)
		}
	}
	if len(s.timers) != 1 {
		t.Fatalf("%d timers", len(s.timers))
	}
	s.Delete(ProtoESP, a1, a2, 0x101)
	if len(s.timers) != 0 || v.tidx != 0 {
		t.Fatal("deleted SA kept its timer")
	}
}
