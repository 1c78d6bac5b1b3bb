package spd

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Store is the security policy database. Writers serialize on a mutex;
// Lookup takes no lock.
type Store struct {
	cls  [numDirs][2]class // [dir][v6]
	seed uint64

	mu   sync.Mutex
	w    writer
	byID map[uint32]*Policy // by selector: the classifier's own tables
	n    uint32             // last ID number handed out
	seq  uint64
	now  func() time.Time

	reqid uint32        // last automatic reqid handed out
	gen   atomic.Uint64 // bumped by every change
}

// Reqids the Store assigns to `unique` requests written without one, as
// FreeBSD's key_newreqid, come from above the manual range, so an SA keyed
// for one policy serves no other. (FreeBSD's manual range ends at 0x3fff;
// setkey(8) accepts unique:1..32767, so ours ends there.)
const (
	MaxManualReqID = 0x7fff
	firstAutoReqID = MaxManualReqID + 1
)

// NewStore returns an empty SPD.
func NewStore() *Store {
	s := &Store{seed: rand.Uint64(), byID: make(map[uint32]*Policy), now: time.Now}
	s.w.seed = s.seed
	for d := range s.cls {
		s.cls[d][1].v6 = true
	}
	return s
}

func (s *Store) class(dir Dir, sel *Selector) *class {
	f := 1
	if sel.Src.Addr().Is4() {
		f = 0
	}
	return &s.cls[dir][f]
}

// Lookup returns the first policy of direction dir, in order (highest
// priority, then earliest installed), whose selector matches k; nil if
// none. It is lock-free and does not allocate; the policy is read-only.
func (s *Store) Lookup(dir Dir, k *Key) *Policy {
	if dir >= numDirs {
		return nil
	}
	f := 0
	if k.V6 {
		f = 1
	}
	return s.cls[dir][f].lookup(k, s.seed)
}

// Gen changes whenever the SPD does: a core holding packets for a policy
// (the ACQUIRE queue) re-checks them when it moves. Lock-free.
func (s *Store) Gen() uint64 { return s.gen.Load() }

// prepare validates p and returns the copy to install.
func prepare(p *Policy) (*Policy, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	np := *p
	np.Selector = p.Selector.normalize()
	np.Requests = slices.Clone(p.Requests)
	return &np, nil
}

// newID hands out the next unused n<<3 | dir.
func (s *Store) newID(dir Dir) uint32 {
	for {
		s.n++
		if s.n >= 1<<29 {
			s.n = 1
		}
		id := s.n<<3 | uint32(dir)
		if _, used := s.byID[id]; !used {
			return id
		}
	}
}

// Add installs p (SPDADD); ErrExists if a policy with the same direction
// and selector is installed. It returns p as installed (ID, Seq, Created).
func (s *Store) Add(p Policy) (Policy, error) {
	np, err := prepare(&p)
	if err != nil {
		return Policy{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.class(np.Dir, &np.Selector)
	if s.w.find(c, &np.Selector) != nil {
		return Policy{}, ErrExists
	}
	s.install(c, np)
	return *np, nil
}

func (s *Store) install(c *class, np *Policy) {
	s.seq++
	np.ID, np.Seq, np.Created = s.newID(np.Dir), s.seq, s.now()
	np.lastUse = new(atomic.Int64)
	s.bindUnique(np, nil)
	s.byID[np.ID] = np
	s.w.insert(c, np)
	s.gen.Add(1)
}

// bindUnique gives each `unique` request without a reqid one of its own
// (key_newreqid), so SAs negotiated for the policy are bound to it alone.
// A replacement (old non-nil) keeps the reqid old had at the same place,
// so SAs already keyed for the policy stay bound to it.
func (s *Store) bindUnique(np, old *Policy) {
	for i := range np.Requests {
		r := &np.Requests[i]
		if r.Level != LevelUnique || r.ReqID != 0 {
			continue
		}
		if old != nil && i < len(old.Requests) && old.Requests[i].Level == LevelUnique &&
			old.Requests[i].ReqID > MaxManualReqID {
			r.ReqID = old.Requests[i].ReqID
			continue
		}
		if s.reqid < firstAutoReqID || s.reqid == ^uint32(0) {
			s.reqid = firstAutoReqID - 1
		}
		s.reqid++
		r.ReqID = s.reqid
	}
}

// Update replaces the policy with p's direction and selector (SPDUPDATE),
// or adds p if there is none. A replacement keeps the old ID and place
// among equal priorities (Seq), as Linux XFRM does; Created restarts.
func (s *Store) Update(p Policy) (Policy, error) {
	np, err := prepare(&p)
	if err != nil {
		return Policy{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.class(np.Dir, &np.Selector)
	old := s.w.find(c, &np.Selector)
	if old == nil {
		s.install(c, np)
		return *np, nil
	}
	np.ID, np.Seq, np.Created = old.ID, old.Seq, s.now()
	np.lastUse = new(atomic.Int64) // a replacement starts unused, as its lifetimes restart
	s.bindUnique(np, old)
	s.byID[np.ID] = np
	s.w.replace(c, old, np)
	s.gen.Add(1)
	return *np, nil
}

// Delete removes the policy with this direction and selector (SPDDELETE).
func (s *Store) Delete(dir Dir, sel Selector) (Policy, error) {
	if dir >= numDirs || sel.Validate() != nil {
		return Policy{}, ErrNotFound
	}
	sel = sel.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.w.find(s.class(dir, &sel), &sel)
	if p == nil {
		return Policy{}, ErrNotFound
	}
	s.remove(p)
	return *p, nil
}

// DeleteID removes the policy with this ID (SPDDELETE2).
func (s *Store) DeleteID(id uint32) (Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return Policy{}, ErrNotFound
	}
	s.remove(p)
	return *p, nil
}

func (s *Store) remove(p *Policy) {
	delete(s.byID, p.ID)
	s.w.remove(s.class(p.Dir, &p.Selector), p)
	s.gen.Add(1)
}

// Get returns a copy of the policy with this ID (SPDGET).
func (s *Store) Get(id uint32) (Policy, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return Policy{}, false
	}
	return *p, true
}

// Flush removes every policy (SPDFLUSH) and returns how many there were.
func (s *Store) Flush() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.byID)
	for d := range s.cls {
		for f := range s.cls[d] {
			c := &s.cls[d][f]
			c.shapes = nil
			c.list.Store(nil)
		}
	}
	clear(s.byID)
	s.gen.Add(1)
	return n
}

// Len returns the number of installed policies.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// Walk calls fn for each policy (read-only) until it returns false:
// direction by direction (in, out, fwd), each in lookup order. It works
// on a snapshot taken under the lock, so fn may call the Store.
func (s *Store) Walk(fn func(*Policy) bool) {
	s.mu.Lock()
	all := make([]*Policy, 0, len(s.byID))
	for _, p := range s.byID {
		all = append(all, p)
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b *Policy) int {
		switch {
		case a.Dir != b.Dir:
			return int(a.Dir) - int(b.Dir)
		case before(a, b):
			return -1
		case before(b, a):
			return 1
		}
		return 0
	})
	for _, p := range all {
		if !fn(p) {
			return
		}
	}
}
