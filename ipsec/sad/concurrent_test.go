package sad

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// churnN is how many SAs the writer adds and deletes while readers run.
func churnN() int {
	if raceEnabled || testing.Short() {
		return 20000
	}
	return 100000
}

// TestConcurrentReaders runs lookups on several goroutines while a writer
// adds, rekeys, updates and deletes SAs through every table resize. Stable SAs
// must be found on every lookup; any SA found must match the key.
func TestConcurrentReaders(t *testing.T) {
	s := NewStore()
	const stableN = 512
	stable := make([]*SA, stableN)
	for i := range stable {
		stable[i] = mk(t, ProtoESP, v4(172, i), v4(10, i), uint32(0x100+i))
		mustAdd(t, s, stable[i])
	}
	n := churnN()
	churn := make([]*SA, n)
	for i := range churn {
		churn[i] = mk(t, ProtoESP, v4(173, i), v4(11, i), uint32(0x10000+i))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lookups atomic.Int64
	fail := make(chan string, 8)
	report := func(msg string) {
		select {
		case fail <- msg:
		default:
		}
		stop.Store(true)
	}
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := r * 7919
			for !stop.Load() {
				k++
				st := stable[k%stableN]
				if sa := s.Inbound(ProtoESP, st.SPI, st.Dst, st.Src); sa != st {
					report("stable SA missed by Inbound")
					return
				}
				if sa := s.Outbound(ProtoESP, ModeAny, st.Src, st.Dst, 0, false); sa == nil || sa.Src != st.Src || sa.Dst != st.Dst {
					report("stable SA missed by Outbound")
					return
				}
				c := churn[k%n]
				if sa := s.Inbound(ProtoESP, c.SPI, c.Dst, c.Src); sa != nil && sa != c {
					report("Inbound returned another SA")
					return
				}
				if sa := s.Outbound(ProtoESP, ModeAny, c.Src, c.Dst, 0, false); sa != nil && sa != c {
					report("Outbound returned another SA")
					return
				}
				lookups.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // control timer and dumps meanwhile
		defer wg.Done()
		now := t0
		for !stop.Load() {
			now = now.Add(100 * time.Millisecond)
			s.Tick(now)
			drain(s)
			cnt := 0
			s.Walk(func(*SA) bool { cnt++; return cnt < 10000 })
			time.Sleep(time.Millisecond)
		}
	}()

	// Writer: add all one by one and in batches, rekey stable pairs, delete.
	for i, sa := range churn[:n/2] {
		if err := s.Add(sa); err != nil {
			t.Fatal(err)
		}
		if i%64 == 0 {
			st := stable[(i/64)%stableN]
			re := mk(t, ProtoESP, st.Src, st.Dst, st.SPI+0x8000000)
			mustAdd(t, s, re)
			if _, err := s.Delete(ProtoESP, re.Src, re.Dst, re.SPI); err != nil {
				t.Fatal(err)
			}
			l, err := s.GetSPI(ProtoESP, st.Src, st.Dst, 0x9000000, 0x9ffffff, 0, ModeAny, t0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(mk(t, ProtoESP, st.Src, st.Dst, l.SPI)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Delete(ProtoESP, st.Src, st.Dst, l.SPI); err != nil {
				t.Fatal(err)
			}
		}
	}
	for lo := n / 2; lo < n; lo += 1000 {
		err := s.Apply(func(tx *Txn) error {
			for _, sa := range churn[lo:min(lo+1000, n)] {
				if err := tx.Add(sa); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != stableN+n {
		t.Fatalf("Len %d", s.Len())
	}
	for _, sa := range churn {
		if _, err := s.Delete(ProtoESP, sa.Src, sa.Dst, sa.SPI); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	select {
	case msg := <-fail:
		t.Fatal(msg)
	default:
	}
	if s.Len() != stableN || lookups.Load() == 0 {
		t.Fatalf("Len %d, lookups %d", s.Len(), lookups.Load())
	}
	t.Logf("%d lookup rounds during %d adds and deletes", lookups.Load(), n)
}

// TestWalkWhileWriting: a walk sees every SA installed throughout exactly
// once while a writer adds and deletes others.
func TestWalkWhileWriting(t *testing.T) {
	s := NewStore()
	n := churnN()
	stable := map[*SA]bool{}
	err := s.Apply(func(tx *Txn) error {
		for i := range n {
			sa := mk(t, ProtoESP, v4(172, i), v4(10, i), uint32(0x100+i))
			stable[sa] = true
			if err := tx.Add(sa); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	churn := make([]*SA, n)
	for i := range churn {
		churn[i] = mk(t, ProtoESP, v4(173, i), v4(11, i), uint32(0x100+i))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, sa := range churn {
			if err := s.Add(sa); err != nil {
				panic(err)
			}
		}
		for _, sa := range churn[:n/2] {
			s.Delete(ProtoESP, sa.Src, sa.Dst, sa.SPI)
		}
	}()
	for pass := 0; ; pass++ {
		seen := make(map[*SA]bool, 2*n)
		s.Walk(func(sa *SA) bool {
			if seen[sa] {
				t.Fatalf("%v visited twice", sa)
			}
			seen[sa] = true
			return true
		})
		for sa := range stable {
			if !seen[sa] {
				t.Fatalf("pass %d: %v not visited", pass, sa)
			}
		}
		select {
		case <-done:
			if pass == 0 {
				t.Log("writer finished during the first walk")
			}
			return
		default:
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	s := NewStore()
	for i := range 1000 {
		mustAdd(t, s, mk(t, ProtoESP, v4(172, i), v4(10, i), uint32(0x100+i)))
	}
	mustAdd(t, s, mk(t, ProtoESP, z4, z4, 0x99999))
	x := mk(t, ProtoESP, v4(172, 5), v4(10, 5), 0x105)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Inbound hit", func() { s.Inbound(ProtoESP, 0x105, x.Dst, x.Src) }},
		{"Inbound wildcard", func() { s.Inbound(ProtoESP, 0x99999, a2, a1) }},
		{"Inbound miss", func() { s.Inbound(ProtoESP, 0x7777777, a2, a1) }},
		{"Outbound hit", func() { s.Outbound(ProtoESP, ModeTunnel, x.Src, x.Dst, 0, false) }},
		{"Outbound miss", func() { s.Outbound(ProtoESP, ModeTunnel, a1, a2, 3, true) }},
		{"Raise", func() { s.Raise(x, ExpireSoft); <-s.Events() }},
	}
	for _, tc := range tests {
		if a := testing.AllocsPerRun(1000, tc.fn); a != 0 {
			t.Errorf("%s: %v allocs", tc.name, a)
		}
	}
}
