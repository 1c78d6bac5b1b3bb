package sad

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Store methods (wrapped with the SA's description).
var (
	ErrExists   = errors.New("sad: SA exists")
	ErrNotFound = errors.New("sad: no such SA")
	ErrNoSPI    = errors.New("sad: no free SPI in range")
)

// GETSPI's default range (FreeBSD net.key.spi_minval/spi_maxval); IPComp
// CPIs are capped at 16 bits.
const (
	DefaultSPIMin = 0x100
	DefaultSPIMax = 0x0fffffff
)

// Store defaults; see the setters.
const (
	DefaultGrace          = time.Second
	DefaultLarvalLifetime = 30 * time.Second
)

// spiTries is how many random SPIs GetSPI tries before scanning the range.
const spiTries = 64

// Store is the SA database: a lock-free index for the dataplane (Inbound,
// Outbound) and a writer-locked control plane (Add ... GetSPI, Apply).
//
// Writers serialize on one mutex that readers never take; each change is
// visible to readers as soon as its method returns (Update atomically).
// An SA leaves the index at Delete, DeleteAll, Flush, Update (the old one)
// or a larval timeout, and is marked dead then, but a core may still be
// using it. The rule: the dataplane keeps an *SA only for the burst it
// looked it up for (a cache across bursts must revalidate with Gen or
// Usable). The control plane passes removed SAs to Retire, which wipes
// their keys at a Tick at least the grace period (SetGrace, default 1 s,
// many orders of magnitude longer than a burst) after the removal.
type Store struct {
	// Read on every lookup; written when a table is replaced.
	in   atomic.Pointer[inTable]
	out  atomic.Pointer[outTable]
	wild atomic.Int64 // SAs with an unspecified Dst (Inbound's second probe)
	_    [64]byte

	mu     sync.Mutex // writers
	nextID uint64
	groups int          // outbound groups
	timers []timer      // SAs with time limits, larval SAs; see Tick
	n      atomic.Int64 // SAs
	gen    atomic.Uint64

	events
	ticker
}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{}
	s.in.Store(newTable[SA](minBuckets, rand.Uint64()))
	s.out.Store(newTable[outNode](minBuckets, rand.Uint64()))
	s.events.init()
	s.ticker.init()
	return s
}

// Len is the number of installed SAs.
func (s *Store) Len() int { return int(s.n.Load()) }

// Gen changes whenever the index does: a core caching a lookup result
// across bursts must revalidate it when Gen differs.
func (s *Store) Gen() uint64 { return s.gen.Load() }

// Add installs sa, assigning its ID if zero. ErrExists when an SA with the
// same (Proto, Dst, SPI) is installed.
func (s *Store) Add(sa *SA) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(sa)
}

// Update replaces the larval SA with sa's (Proto, Dst, SPI), made by
// GetSPI, in one atomic step for readers; the old SA is marked dead and
// returned (Retire it). sa gets a new ID if its ID is zero, so it counts
// as the newest. ErrNotFound when none; ErrExists when sa itself is the
// installed one; ErrInvalid when the installed SA is not larval: a fresh
// SA would restart the sequence numbers under the same key (nonce reuse),
// so, as FreeBSD's key_update, live SAs are not replaced (delete and add
// one with a new SPI).
func (s *Store) Update(sa *SA) (old *SA, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.update(sa)
}

// Delete removes the SA (proto, dst, spi) whose source is src (invalid:
// any), marks it dead and returns it (Retire it). ErrNotFound when none.
func (s *Store) Delete(proto Proto, src, dst netip.Addr, spi uint32) (*SA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delete(proto, src, dst, spi)
}

// DeleteAll removes every proto SA from src (invalid: any, which scans
// the outbound index) to dst, as setkey's deleteall, and returns them.
func (s *Store) DeleteAll(proto Proto, src, dst netip.Addr) []*SA {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteAll(proto, src, dst)
}

// Flush removes every SA of proto (0: all) and returns them (Retire them).
// It rebuilds the index in one pass, O(number of SAs).
func (s *Store) Flush(proto Proto) []*SA {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []*SA
	old := s.in.Load()
	old.each(func(sa *SA) bool {
		if proto == 0 || sa.Proto == proto {
			gone = append(gone, sa)
		}
		return true
	})
	if len(gone) == 0 {
		return nil
	}
	keep := int(s.n.Load()) - len(gone)
	in := newTable[SA](sizeFor(keep, inLoad), old.seed)
	oldOut := s.out.Load()
	out := newTable[outNode](minBuckets, oldOut.seed)
	var wild int64
	groups := 0
	if proto != 0 {
		old.filter(in, func(sa *SA) bool {
			if sa.Proto == proto {
				return false
			}
			if sa.Dst.IsUnspecified() {
				wild++
			}
			return true
		})
		oldOut.each(func(g *outNode) bool {
			if g.proto != proto {
				groups++
			}
			return true
		})
		out = newTable[outNode](sizeFor(groups, outLoad), oldOut.seed)
		oldOut.filter(out, func(g *outNode) bool { return g.proto != proto })
	}
	timers := s.timers[:0]
	for _, e := range s.timers {
		if proto != 0 && e.sa.Proto != proto {
			timers = append(timers, e)
			e.sa.tidx = len(timers)
		} else {
			e.sa.tidx = 0
		}
	}
	clear(s.timers[len(timers):])
	s.timers = timers
	s.in.Store(in)
	s.out.Store(out)
	s.wild.Store(wild)
	s.groups = groups
	s.n.Store(int64(keep))
	s.gen.Add(1)
	for _, sa := range gone {
		sa.SetState(StateDead)
	}
	return gone
}

// Get returns the SA (proto, dst, spi) whose source is src (invalid: any).
// Lock-free.
func (s *Store) Get(proto Proto, src, dst netip.Addr, spi uint32) (*SA, bool) {
	sa := findIn(s.in.Load(), proto, spi, dst)
	if sa == nil || (src.IsValid() && sa.Src != src) {
		return nil, false
	}
	return sa, true
}

// GetSPI reserves a random unused SPI in [min, max] for (proto, dst) and
// installs a larval SA for it (GETSPI). min = max = 0 means DefaultSPIMin..
// DefaultSPIMax; ESP and AH never get an SPI below 256, IPComp CPIs are
// capped at 0xffff. ErrNoSPI when every SPI in the range is taken.
func (s *Store) GetSPI(proto Proto, src, dst netip.Addr, min, max uint32, reqid uint32, mode Mode, now time.Time) (*SA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getSPI(proto, src, dst, min, max, reqid, mode, now)
}

// Walk calls fn for every SA until fn returns false. It iterates the
// current table without the writers' lock, so writers proceed meanwhile:
// an SA installed for the whole walk is visited exactly once; one added or
// removed during it may or may not be.
func (s *Store) Walk(fn func(*SA) bool) {
	s.in.Load().each(fn)
}

// Apply runs fn with the writers' lock held once, for a batch of changes
// through tx. It is not atomic: changes made before fn returns an error
// stay, and readers see each change as it is made. Apply returns fn's
// error. tx is valid only during fn, and fn must not call the Store's
// writer methods or Tick (the lock is held).
func (s *Store) Apply(fn func(tx *Txn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := Txn{s: s}
	defer func() { tx.s = nil }()
	return fn(&tx)
}

// Txn makes changes inside Apply; its methods are the Store's.
type Txn struct{ s *Store }

// Add is Store.Add.
func (tx *Txn) Add(sa *SA) error { return tx.s.add(sa) }

// Update is Store.Update.
func (tx *Txn) Update(sa *SA) (*SA, error) { return tx.s.update(sa) }

// Delete is Store.Delete.
func (tx *Txn) Delete(proto Proto, src, dst netip.Addr, spi uint32) (*SA, error) {
	return tx.s.delete(proto, src, dst, spi)
}

// DeleteAll is Store.DeleteAll.
func (tx *Txn) DeleteAll(proto Proto, src, dst netip.Addr) []*SA {
	return tx.s.deleteAll(proto, src, dst)
}

// Get is Store.Get.
func (tx *Txn) Get(proto Proto, src, dst netip.Addr, spi uint32) (*SA, bool) {
	return tx.s.Get(proto, src, dst, spi)
}

// GetSPI is Store.GetSPI.
func (tx *Txn) GetSPI(proto Proto, src, dst netip.Addr, min, max uint32, reqid uint32, mode Mode, now time.Time) (*SA, error) {
	return tx.s.getSPI(proto, src, dst, min, max, reqid, mode, now)
}

// The methods below run with s.mu held.

func (s *Store) add(sa *SA) error {
	if sa == nil {
		return fmt.Errorf("%w: nil", ErrInvalid)
	}
	t := s.in.Load()
	if findIn(t, sa.Proto, sa.SPI, sa.Dst) != nil {
		return fmt.Errorf("%w: %s spi %#x dst %s", ErrExists, sa.Proto, sa.SPI, sa.Dst)
	}
	if sa.id == 0 {
		s.nextID++
		sa.id = s.nextID
	}
	insertIn(t, sa)
	s.outAdd(sa)
	s.arm(sa, sa.added.UnixNano())
	if sa.Dst.IsUnspecified() {
		s.wild.Add(1)
	}
	s.n.Add(1)
	s.gen.Add(1)
	s.resize()
	return nil
}

func (s *Store) update(sa *SA) (*SA, error) {
	if sa == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalid)
	}
	t := s.in.Load()
	old := findIn(t, sa.Proto, sa.SPI, sa.Dst)
	if old == nil {
		return nil, fmt.Errorf("%w: %s spi %#x dst %s", ErrNotFound, sa.Proto, sa.SPI, sa.Dst)
	}
	if old == sa {
		return nil, fmt.Errorf("%w: %s is installed already", ErrExists, sa)
	}
	if old.State() != StateLarval {
		return nil, fmt.Errorf("%w: %s is not larval", ErrInvalid, old)
	}
	if sa.id == 0 {
		s.nextID++
		sa.id = s.nextID
	}
	replaceIn(t, old, sa)
	if old.Src == sa.Src {
		ot := s.out.Load()
		g := findOut(ot, sa.Proto, sa.Src, sa.Dst)
		var sas []*SA
		if g != nil {
			sas = withoutSA(g.list(), old)
		}
		s.groups += setOut(ot, sa.Proto, sa.Src, sa.Dst, outNodeWith(sa.Proto, sa.Src, sa.Dst, sas, sa))
	} else {
		s.outAdd(sa) // both visible for a moment rather than neither
		s.outRemove(old)
	}
	s.disarm(old)
	s.arm(sa, sa.added.UnixNano())
	old.SetState(StateDead)
	s.gen.Add(1)
	s.resize()
	return old, nil
}

func (s *Store) delete(proto Proto, src, dst netip.Addr, spi uint32) (*SA, error) {
	sa := findIn(s.in.Load(), proto, spi, dst)
	if sa == nil || (src.IsValid() && sa.Src != src) {
		return nil, fmt.Errorf("%w: %s spi %#x dst %s", ErrNotFound, proto, spi, dst)
	}
	s.remove(sa)
	return sa, nil
}

func (s *Store) deleteAll(proto Proto, src, dst netip.Addr) []*SA {
	var gone []*SA
	ot := s.out.Load()
	if src.IsValid() {
		if g := findOut(ot, proto, src, dst); g != nil {
			gone = slices.Clone(g.list())
		}
	} else {
		ot.each(func(g *outNode) bool {
			if g.proto == proto && g.dst == dst {
				gone = append(gone, g.list()...)
			}
			return true
		})
	}
	for _, sa := range gone {
		s.remove(sa)
	}
	return gone
}

// remove unlinks an installed SA from both tables and marks it dead.
func (s *Store) remove(sa *SA) {
	if !replaceIn(s.in.Load(), sa, nil) {
		return
	}
	s.outRemove(sa)
	s.disarm(sa)
	if sa.Dst.IsUnspecified() {
		s.wild.Add(-1)
	}
	s.n.Add(-1)
	s.gen.Add(1)
	sa.SetState(StateDead)
	s.resize()
}

func (s *Store) outAdd(sa *SA) {
	t := s.out.Load()
	var sas []*SA
	if g := findOut(t, sa.Proto, sa.Src, sa.Dst); g != nil {
		sas = g.list()
	}
	s.groups += setOut(t, sa.Proto, sa.Src, sa.Dst, outNodeWith(sa.Proto, sa.Src, sa.Dst, sas, sa))
}

func (s *Store) outRemove(sa *SA) {
	t := s.out.Load()
	if g := findOut(t, sa.Proto, sa.Src, sa.Dst); g != nil {
		s.groups += setOut(t, sa.Proto, sa.Src, sa.Dst, newOutNode(sa.Proto, sa.Src, sa.Dst, withoutSA(g.list(), sa)))
	}
}

// resize doubles a table past its load and halves it below an eighth of
// it, publishing the copy atomically: O(n) under the writers' lock,
// amortized O(1) per change.
func (s *Store) resize() {
	in, out := s.in.Load(), s.out.Load()
	if n := resizeTo(len(in.buckets), int(s.n.Load()), inLoad); n != 0 {
		s.in.Store(in.rehash(n))
	}
	if n := resizeTo(len(out.buckets), s.groups, outLoad); n != 0 {
		s.out.Store(out.rehash(n))
	}
}

func (s *Store) getSPI(proto Proto, src, dst netip.Addr, lo, hi, reqid uint32, mode Mode, now time.Time) (*SA, error) {
	if lo == 0 && hi == 0 {
		lo, hi = DefaultSPIMin, DefaultSPIMax
	}
	if lo > hi {
		return nil, fmt.Errorf("%w: SPI range %#x-%#x", ErrInvalid, lo, hi)
	}
	switch proto {
	case ProtoESP, ProtoAH:
		lo = max(lo, 256)
	case ProtoIPComp:
		lo, hi = max(lo, 1), min(hi, 0xffff)
	default:
		return nil, fmt.Errorf("%w: protocol %d", ErrInvalid, proto)
	}
	if !src.IsValid() || !dst.IsValid() {
		return nil, fmt.Errorf("%w: source %s and destination %s must be addresses", ErrInvalid, src, dst)
	}
	if lo > hi {
		return nil, fmt.Errorf("%w: %s %s", ErrNoSPI, proto, dst)
	}
	t := s.in.Load()
	size := uint64(hi-lo) + 1
	spi, found := uint32(0), false
	for range min(spiTries, size) {
		c := lo + uint32(rand.Uint64N(size))
		if findIn(t, proto, c, dst) == nil {
			spi, found = c, true
			break
		}
	}
	if !found {
		start := rand.Uint64N(size)
		for i := range size {
			c := lo + uint32((start+i)%size)
			if findIn(t, proto, c, dst) == nil {
				spi, found = c, true
				break
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: %s %#x-%#x %s", ErrNoSPI, proto, lo, hi, dst)
	}
	sa, err := New(Config{SPI: spi, Proto: proto, Src: src, Dst: dst, Mode: mode, ReqID: reqid}, now)
	if err != nil {
		return nil, err
	}
	sa.SetState(StateLarval)
	if err := s.add(sa); err != nil {
		return nil, err
	}
	return sa, nil
}
