package sad

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Event reports that an SA crossed a lifetime.
type Event struct {
	SA     *SA
	Expiry Expiry
	Time   time.Time
}

const (
	eventQueue = 4096 // Events channel capacity
	parkSlots  = 1024 // SAs with expiries awaiting room in the channel
	timerChunk = 4096 // timers checked per hold of the writers' lock
	minSweep   = 16   // buckets checked per Tick at least (lost sweep)
	lostSweep  = time.Second
)

// events is the Store's expiry delivery. Raise never blocks: when the
// channel is full the expiry bits are kept on the SA (SA.lost) and the SA
// is parked in a small lock-free slot array that the next Tick drains.
// When the slots are full too, Tick finds such SAs by a round-robin sweep
// of the whole index within about a second. So no expiry is lost, only
// delayed (and possibly merged with another into one Event).
type events struct {
	ev       chan Event
	dropped  atomic.Uint64
	parkNext atomic.Uint64
	parkedN  atomic.Int64
	lostGen  atomic.Uint64 // bumped when an SA could not be parked
	parked   [parkSlots]atomic.Pointer[SA]
}

func (e *events) init() { e.ev = make(chan Event, eventQueue) }

// Events delivers expiries raised by Raise and by Tick. One goroutine
// (the control plane's) should receive them; it may call Tick itself.
func (s *Store) Events() <-chan Event { return s.ev }

// DroppedEvents counts expiries that found the Events channel full. They
// are not lost: Tick delivers them later (possibly merged into one Event).
func (s *Store) DroppedEvents() uint64 { return s.dropped.Load() }

// Raise reports expiries of sa (Account's result, or ExpireNow's) to the
// control plane. It never blocks or allocates; dataplane-safe.
func (s *Store) Raise(sa *SA, e Expiry) {
	if sa == nil || e == ExpireNone {
		return
	}
	s.send(sa, e, time.Now())
}

func (s *Store) send(sa *SA, e Expiry, now time.Time) {
	select {
	case s.ev <- Event{SA: sa, Expiry: e, Time: now}:
		return
	default:
	}
	s.dropped.Add(1)
	sa.lost.Or(uint32(e))
	i := s.parkNext.Add(1)
	for k := range uint64(4) {
		if s.parked[(i+k)%parkSlots].CompareAndSwap(nil, sa) {
			s.parkedN.Add(1)
			return
		}
	}
	s.lostGen.Add(1)
}

// resend delivers the expiries kept on sa, if any.
func (s *Store) resend(sa *SA, now time.Time) {
	if sa.lost.Load() == 0 {
		return
	}
	if e := Expiry(sa.lost.Swap(0)); e != ExpireNone {
		s.send(sa, e, now)
	}
}

// retiree is a removed SA awaiting its wipe.
type retiree struct {
	sa *SA
	at time.Time // zero until the first Tick after Retire
}

// timer is an SA with a time limit (or a larval SA) and when it is due.
type timer struct {
	sa  *SA
	due int64 // unix ns
}

// ticker is Tick's state.
type ticker struct {
	tmu    sync.Mutex // Tick; taken before Store.mu
	larval atomic.Int64

	// Lost-expiry sweep of the index, round robin.
	last     time.Time
	cursor   uint64
	size     int    // bucket count cursor refers to
	seenLost uint64 // lostGen at the last sweep start
	left     uint64 // buckets left in this sweep

	rmu     sync.Mutex // retired; a leaf lock
	grace   time.Duration
	retired []retiree // FIFO
	head    int       // first not wiped
	stamped int       // first without a deadline
}

func (t *ticker) init() {
	t.larval.Store(int64(DefaultLarvalLifetime))
	t.grace = DefaultGrace
}

// SetGrace sets how long after a Retire (counted from the next Tick) keys
// are wiped; it must exceed the longest time a core holds an *SA (one
// burst). Default DefaultGrace.
func (s *Store) SetGrace(d time.Duration) {
	s.rmu.Lock()
	s.grace = d
	s.rmu.Unlock()
}

// SetLarvalLifetime sets how long a larval SA (GetSPI) lives before Tick
// removes and retires it, silently, as FreeBSD's key_larval_lifetime; 0
// keeps them. It applies to SAs installed afterwards. Default
// DefaultLarvalLifetime.
func (s *Store) SetLarvalLifetime(d time.Duration) { s.larval.Store(int64(d)) }

// Retire wipes a removed SA's keys at the first Tick at least the grace
// period after the next Tick. The dataplane must not hold an *SA beyond
// the burst it looked it up for, and the grace period must be longer than
// a burst. Retiring an SA that is still installed does nothing.
func (s *Store) Retire(sa *SA) {
	if sa == nil {
		return
	}
	if findIn(s.in.Load(), sa.Proto, sa.SPI, sa.Dst) == sa {
		return
	}
	s.rmu.Lock()
	s.retired = append(s.retired, retiree{sa: sa})
	s.rmu.Unlock()
}

// Tick is the control plane's timer (call it every 100 ms to 1 s). It
// redelivers parked expiries, checks the SAs whose time limit is due
// (each SA with an add-time or use-time limit sits in a dense timer array
// with its next deadline, so a Tick reads 16 bytes per such SA and
// touches only the due ones), raises their events, removes larval SAs
// past their lifetime, and wipes retired SAs whose grace has passed.
func (s *Store) Tick(now time.Time) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.parkedN.Load() > 0 {
		for i := range s.parked {
			if sa := s.parked[i].Swap(nil); sa != nil {
				s.parkedN.Add(-1)
				s.resend(sa, now)
			}
		}
	}
	s.runTimers(now)
	s.sweepLost(now)
	s.wipeRetired(now)
}

// runTimers checks the due timers, timerChunk at a time under s.mu. An
// entry moved by a concurrent removal between chunks may wait for the
// next Tick.
func (s *Store) runTimers(now time.Time) {
	ns := now.UnixNano()
	for i := 0; ; {
		s.mu.Lock()
		for n := 0; n < timerChunk && i < len(s.timers); n++ {
			sa := s.timers[i].sa
			if s.timers[i].due > ns {
				i++
				continue
			}
			s.expire(sa, now)
			if sa.tidx == i+1 {
				s.arm(sa, ns)
			}
			if sa.tidx == i+1 {
				i++ // else slot i now holds the last timer, not yet checked
			}
		}
		more := i < len(s.timers)
		s.mu.Unlock()
		if !more {
			return
		}
	}
}

// expire applies sa's time limits at now (s.mu held).
func (s *Store) expire(sa *SA, now time.Time) {
	switch sa.State() {
	case StateLarval:
		if l := s.larval.Load(); l > 0 && now.Sub(sa.added) >= time.Duration(l) {
			if findIn(s.in.Load(), sa.Proto, sa.SPI, sa.Dst) == sa {
				s.remove(sa)
				s.rmu.Lock()
				s.retired = append(s.retired, retiree{sa: sa})
				s.rmu.Unlock()
			}
		}
	case StateDead:
	default:
		if e := sa.CheckTime(now); e != ExpireNone {
			s.send(sa, e, now)
		}
	}
}

// due is sa's next time deadline in unix ns, 0 for none (s.mu held).
// An unused SA's use-time limit is due UseTime from now: it cannot
// expire earlier, and is checked again then.
func (s *Store) due(sa *SA, now int64) int64 {
	switch sa.State() {
	case StateLarval:
		if l := s.larval.Load(); l > 0 {
			return sa.added.UnixNano() + l
		}
		return 0
	case StateDead:
		return 0
	}
	fired := Expiry(sa.cur.fired.Load())
	if fired&ExpireHard != 0 {
		return 0
	}
	d := int64(math.MaxInt64)
	lim := func(l Lifetime, bit Expiry) {
		if fired&bit != 0 {
			return
		}
		if l.AddTime != 0 {
			d = min(d, sa.added.UnixNano()+int64(l.AddTime))
		}
		if l.UseTime != 0 {
			base := sa.cur.firstUs.Load()
			if base == 0 {
				base = now
			}
			d = min(d, base+int64(l.UseTime))
		}
	}
	lim(sa.Soft, ExpireSoft)
	lim(sa.Hard, ExpireHard)
	if d == math.MaxInt64 {
		return 0
	}
	return d
}

// arm sets sa's timer to its next deadline, or removes it (s.mu held).
func (s *Store) arm(sa *SA, now int64) {
	d := s.due(sa, now)
	switch {
	case d == 0:
		s.disarm(sa)
	case sa.tidx == 0:
		s.timers = append(s.timers, timer{sa: sa, due: d})
		sa.tidx = len(s.timers)
	default:
		s.timers[sa.tidx-1].due = d
	}
}

// disarm removes sa's timer, moving the last one into its place.
func (s *Store) disarm(sa *SA) {
	i := sa.tidx - 1
	if i < 0 {
		return
	}
	last := len(s.timers) - 1
	s.timers[i] = s.timers[last]
	s.timers[i].sa.tidx = i + 1
	s.timers[last] = timer{}
	s.timers = s.timers[:last]
	sa.tidx = 0
	if c := cap(s.timers); c > 1024 && len(s.timers) < c/4 {
		s.timers = append([]timer(nil), s.timers...)
	}
}

// sweepLost looks for SAs whose expiries could not be parked: after such
// a loss, one full round of the index, spread over about a second.
func (s *Store) sweepLost(now time.Time) {
	t := s.in.Load()
	nb := uint64(len(t.buckets))
	if g := s.lostGen.Load(); g != s.seenLost || s.size != int(nb) && s.left > 0 {
		s.seenLost, s.left, s.size = g, nb, int(nb)
		s.cursor &= t.mask
	}
	if s.left == 0 {
		s.last = now
		return
	}
	el := min(max(now.Sub(s.last), 0), lostSweep)
	budget := uint64(math.Ceil(float64(nb) * float64(el) / float64(lostSweep)))
	budget = min(max(budget, minSweep), s.left)
	s.last = now
	for range budget {
		t.bucket(s.cursor, func(sa *SA) bool { s.resend(sa, now); return true })
		s.cursor = (s.cursor + 1) & t.mask
	}
	s.left -= budget
}

// wipeRetired stamps new retirees and wipes those due.
func (s *Store) wipeRetired(now time.Time) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for i := s.stamped; i < len(s.retired); i++ {
		s.retired[i].at = now.Add(s.grace)
	}
	s.stamped = len(s.retired)
	for s.head < s.stamped && !now.Before(s.retired[s.head].at) {
		s.retired[s.head].sa.Wipe()
		s.retired[s.head] = retiree{}
		s.head++
	}
	switch {
	case s.head == len(s.retired):
		s.retired, s.head, s.stamped = s.retired[:0], 0, 0
	case s.head > len(s.retired)/2:
		n := copy(s.retired, s.retired[s.head:])
		clear(s.retired[n:])
		s.retired, s.stamped, s.head = s.retired[:n], s.stamped-s.head, 0
	}
}
