package spd

import (
	"sync"
	"testing"
	"time"
)

// TestLastUsed: MarkUsed stamps the installed policy that Lookup returns,
// every copy the Store hands out sees it, it never goes back, a policy
// the Store did not install ignores it, and SPDUPDATE starts the
// replacement unused.
func TestLastUsed(t *testing.T) {
	s := NewStore()
	created := time.Unix(1000, 0)
	s.now = func() time.Time { return created }
	in := Policy{Dir: DirOut, Action: ActionDiscard, Selector: sel("10.0.0.0/8", "0.0.0.0/0", AnyProto, AnyPort, AnyPort),
		UseLifetime: time.Minute}
	got := mustAdd(t, s, in)
	if !got.LastUsed().IsZero() || !got.IdleSince().Equal(created) {
		t.Fatalf("fresh policy: last used %v, idle since %v", got.LastUsed(), got.IdleSince())
	}
	in.MarkUsed(2000) // not installed: nothing to stamp
	k := key("10.1.2.3", "192.0.2.1", 6, 1, 2)
	p := s.Lookup(DirOut, &k)
	p.MarkUsed(1005)
	p.MarkUsed(1003) // a core with an older clock never moves it back
	for _, q := range []Policy{got, *p} {
		if q.LastUsed().Unix() != 1005 || q.IdleSince().Unix() != 1005 {
			t.Errorf("copy: last used %v idle since %v, want 1005", q.LastUsed().Unix(), q.IdleSince().Unix())
		}
	}
	if g, _ := s.Get(got.ID); g.LastUsed().Unix() != 1005 {
		t.Errorf("Get: last used %v", g.LastUsed())
	}
	// A stamp older than the creation (clock step) leaves IdleSince at Created.
	old := mustAdd(t, s, Policy{Dir: DirIn, Action: ActionDiscard, Selector: in.Selector})
	s.Lookup(DirIn, &k).MarkUsed(999)
	if g, _ := s.Get(old.ID); !g.IdleSince().Equal(created) {
		t.Errorf("idle since %v, want the creation", g.IdleSince())
	}
	// Re-adding a copy of an installed policy must not share its stamp.
	again := got
	again.Selector.Dst = pfx("192.0.2.0/24")
	fresh := mustAdd(t, s, again)
	if !fresh.LastUsed().IsZero() {
		t.Errorf("re-added copy inherited last use %v", fresh.LastUsed())
	}
	created = time.Unix(1100, 0)
	up, err := s.Update(in)
	if err != nil || up.ID != got.ID {
		t.Fatalf("Update: %v %v", up.ID, err)
	}
	if !up.LastUsed().IsZero() || !up.IdleSince().Equal(created) {
		t.Errorf("replacement: last used %v idle since %v", up.LastUsed(), up.IdleSince())
	}
}

// TestMarkUsedConcurrent: cores stamping while the control plane reads
// and replaces (run with -race).
func TestMarkUsedConcurrent(t *testing.T) {
	s := NewStore()
	pol := Policy{Dir: DirOut, Action: ActionDiscard, Selector: sel("10.0.0.0/8", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)}
	id := mustAdd(t, s, pol).ID
	k := key("10.1.2.3", "192.0.2.1", 6, 1, 2)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sec := int64(1); ; sec++ {
				select {
				case <-stop:
					return
				default:
				}
				if p := s.Lookup(DirOut, &k); p != nil {
					p.MarkUsed(sec/8 + int64(c))
				}
			}
		}()
	}
	for range 1000 {
		g, _ := s.Get(id)
		_ = g.IdleSince()
		s.Update(pol)
	}
	close(stop)
	wg.Wait()
}

// TestMarkUsedAllocs: the cores' stamp allocates nothing.
func TestMarkUsedAllocs(t *testing.T) {
	s := NewStore()
	mustAdd(t, s, Policy{Dir: DirOut, Action: ActionDiscard, Selector: sel("10.0.0.0/8", "0.0.0.0/0", AnyProto, AnyPort, AnyPort)})
	k := key("10.1.2.3", "192.0.2.1", 6, 1, 2)
	p := s.Lookup(DirOut, &k)
	sec := int64(0)
	if n := testing.AllocsPerRun(1000, func() { sec++; p.MarkUsed(sec) }); n != 0 {
		t.Errorf("%v allocations per MarkUsed", n)
	}
}
