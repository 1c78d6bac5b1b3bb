// Package sad is the security association database: what an SA is, its
// keyed transform, its counters and lifetimes, and the lock-free index the
// dataplane looks SAs up in.
//
//	control plane ──Add/Update/Delete/GetSPI/Apply (one writer mutex)──┐
//	                                                                   ▼
//	index: in  (proto, spi, dst) ─► SA          tagged cache-line buckets
//	       out (proto, src, dst) ─► SAs by id   RCU chains; atomic stores
//	                                                                   │
//	dataplane cores ◄── Inbound(proto, spi, dst, src) / Outbound(...) ─┘ O(1), lock-free
//	      │ ReserveSeq / Account / replay per burst
//	      └──► Store.Raise ──► Events (soft/hard) ──► control plane (SADB_EXPIRE)
//	control timer ──► Store.Tick: due time lifetimes (deadline array), stale
//	                  larval SAs, wipe of retired SAs after a grace period
//
// An SA's configuration and keyed session are immutable once installed;
// its mutable state (sequence counter, replay window, counters) lives in
// separately aligned structs so cores do not false-share.
package sad

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/replay"
)

// Proto is the IPsec protocol of an SA.
type Proto uint8

// IPsec protocols (IP protocol numbers).
const (
	ProtoESP    Proto = 50
	ProtoAH     Proto = 51
	ProtoIPComp Proto = 108
)

// String names the protocol as setkey does.
func (p Proto) String() string {
	switch p {
	case ProtoESP:
		return "esp"
	case ProtoAH:
		return "ah"
	case ProtoIPComp:
		return "ipcomp"
	}
	return fmt.Sprintf("proto-%d", uint8(p))
}

// Mode is the SA's mode.
type Mode uint8

// Modes (ModeAny: the SA serves either, as setkey's default).
const (
	ModeAny Mode = iota
	ModeTransport
	ModeTunnel
)

// String names the mode as setkey does.
func (m Mode) String() string {
	switch m {
	case ModeTransport:
		return "transport"
	case ModeTunnel:
		return "tunnel"
	}
	return "any"
}

// State is an SA's life-cycle state (RFC 2367 §2.3.3).
type State uint8

// SA states.
const (
	StateLarval State = iota // SPI reserved (GETSPI), no keys yet
	StateMature              // usable
	StateDying               // soft lifetime reached: usable, being replaced
	StateDead                // hard lifetime reached: carries nothing
)

// String names the state as setkey -D does.
func (s State) String() string {
	switch s {
	case StateLarval:
		return "larval"
	case StateMature:
		return "mature"
	case StateDying:
		return "dying"
	}
	return "dead"
}

// Lifetime is a set of limits; zero fields are unlimited.
type Lifetime struct {
	Bytes   uint64
	Packets uint64
	AddTime time.Duration // since the SA was added
	UseTime time.Duration // since its first use
}

// IsZero reports whether no limit is set.
func (l Lifetime) IsZero() bool { return l == Lifetime{} }

// Config is what the control plane installs (from setkey syntax or PF_KEY).
type Config struct {
	SPI   uint32 // for IPComp, the CPI is in the low 16 bits
	Proto Proto
	// Src and Dst are the SA's endpoints: the outer addresses in tunnel
	// mode, the packet's addresses in transport mode.
	Src, Dst netip.Addr
	Mode     Mode
	ReqID    uint32
	Enc      alg.EncID
	EncKey   []byte
	Auth     alg.AuthID
	AuthKey  []byte
	// Comp is the IPComp algorithm (2 = deflate); 0 for ESP and AH.
	Comp uint8
	// RawCPI puts the low 16 bits of SPI on the wire as the IPComp CPI
	// (setkey -C deflate -R); otherwise the algorithm's well-known CPI.
	RawCPI bool
	// ReplayWindow is the anti-replay window in packets (0: off).
	ReplayWindow uint32
	// ESN enables 64-bit extended sequence numbers (RFC 4303 §2.2.1).
	ESN bool
	// NATT enables UDP encapsulation (RFC 3948) with these ports.
	NATT                 bool
	NATTSport, NATTDport uint16
	// NATOAi and NATOAr are the original initiator and responder addresses
	// before NAT (for transport-mode checksum fix-ups); invalid if unknown.
	NATOAi, NATOAr netip.Addr
	// TFCPad pads tunnel-mode payloads up to this many bytes (RFC 4303
	// §2.7); 0 disables.
	TFCPad int
	// Seq is the sequence number from the keying message (informational).
	Seq uint32
	// PID is the PF_KEY pid of the process that installed it.
	PID uint32
	// Soft and Hard lifetimes.
	Soft, Hard Lifetime
}

// Counters are an SA's current usage.
type Counters struct {
	Bytes, Packets uint64
	AddTime        time.Time // when it was installed
	UseTime        time.Time // first use (zero if never used)
	Errors         uint64    // packets dropped for this SA (ICV, replay, padding...)
}

// SA is an installed security association.
type SA struct {
	Config
	// Sess is the keyed transform, chosen once at install (nil for IPComp).
	Sess *alg.Session

	id    uint64 // unique per Store, orders SAs by installation
	state atomic.Uint32
	lost  atomic.Uint32 // expiries not yet delivered (Events full); Tick resends
	tidx  int           // 1 + index in Store.timers (0: none); under Store.mu
	added time.Time

	out outState
	in  inState
	cur curState

	// keyBuf holds EncKey and AuthKey when they fit: the SA's size class
	// (704 bytes) has the room, and a separate allocation per key is a
	// cost when SAs are added by the hundred thousand a second.
	keyBuf [keyInline]byte
}

// keyInline is the key bytes an SA holds without allocating.
const keyInline = 48

// outState holds the outbound sequence counter alone on its cache line.
type outState struct {
	_   [64]byte
	seq atomic.Uint64 // last sequence number used
	_   [56]byte
}

// inState is the inbound replay window; cores processing the same SA
// take the lock once per run of packets.
type inState struct {
	mu     sync.Mutex
	window replay.Window
}

// curState holds the usage counters.
type curState struct {
	_       [64]byte
	bytes   atomic.Uint64
	packets atomic.Uint64
	errors  atomic.Uint64
	firstUs atomic.Int64 // unix ns of first use, 0 if unused
	fired   atomic.Uint32
	_       [32]byte
}

// Errors returned by New.
var (
	ErrInvalid = errors.New("sad: invalid SA")
)

// New validates cfg, keys its transform and returns a mature SA (larval
// when it has no keys: an ESP or AH SA made by GETSPI).
func New(cfg Config, now time.Time) (*SA, error) {
	if !cfg.Src.IsValid() || !cfg.Dst.IsValid() || cfg.Src.Is4() != cfg.Dst.Is4() {
		return nil, fmt.Errorf("%w: source %s and destination %s must be addresses of one family", ErrInvalid, cfg.Src, cfg.Dst)
	}
	switch cfg.Proto {
	case ProtoESP, ProtoAH:
		if cfg.SPI < 256 {
			return nil, fmt.Errorf("%w: SPI %#x is reserved (0-255, RFC 4303 §2.1)", ErrInvalid, cfg.SPI)
		}
	case ProtoIPComp:
		if cfg.SPI == 0 {
			return nil, fmt.Errorf("%w: CPI 0", ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("%w: protocol %d", ErrInvalid, cfg.Proto)
	}
	if cfg.NATT && (cfg.NATTSport == 0 || cfg.NATTDport == 0) {
		return nil, fmt.Errorf("%w: NAT-T needs both ports", ErrInvalid)
	}
	sa := &SA{Config: cfg, added: now}
	sa.copyKeys(cfg.EncKey, cfg.AuthKey)
	state := StateMature
	switch cfg.Proto {
	case ProtoESP:
		if cfg.Enc == 0 && cfg.Auth == 0 && len(cfg.EncKey) == 0 {
			state = StateLarval
			break
		}
		s, err := alg.NewSession(cfg.Enc, cfg.EncKey, cfg.Auth, cfg.AuthKey)
		if err != nil {
			sa.Wipe()
			return nil, err
		}
		sa.Sess = s
	case ProtoAH:
		if cfg.Enc == alg.EncAESGMAC {
			// AES-GMAC in AH (RFC 4543 §3.3): keyed like ESP's, key||salt.
			if cfg.Auth != 0 && cfg.Auth != alg.AuthNull {
				return nil, fmt.Errorf("%w: AH with AES-GMAC takes no other integrity algorithm", ErrInvalid)
			}
			s, err := alg.NewSession(alg.EncAESGMAC, cfg.EncKey, alg.AuthNull, nil)
			if err != nil {
				sa.Wipe()
				return nil, err
			}
			sa.Sess = s
			break
		}
		if cfg.Auth == 0 {
			state = StateLarval
			break
		}
		if cfg.Enc != 0 && cfg.Enc != alg.EncNull {
			return nil, fmt.Errorf("%w: AH takes no encryption algorithm but AES-GMAC", ErrInvalid)
		}
		s, err := alg.NewSession(alg.EncNull, nil, cfg.Auth, cfg.AuthKey)
		if err != nil {
			sa.Wipe()
			return nil, err
		}
		sa.Sess = s
	}
	sa.in.window.Init(cfg.ReplayWindow, cfg.ESN)
	sa.state.Store(uint32(state))
	return sa, nil
}

// copyKeys gives the SA its own copies of the keys: in keyBuf when both
// fit (an AES-GCM or AES-CBC key with its salt), else in one allocation.
// An empty key stays nil.
func (sa *SA) copyKeys(enc, auth []byte) {
	n := len(enc) + len(auth)
	if n == 0 {
		sa.EncKey, sa.AuthKey = nil, nil
		return
	}
	buf := sa.keyBuf[:]
	if n > len(buf) {
		buf = make([]byte, n)
	}
	sa.EncKey, sa.AuthKey = nil, nil
	if len(enc) > 0 {
		sa.EncKey = buf[:len(enc):len(enc)]
		copy(sa.EncKey, enc)
	}
	if len(auth) > 0 {
		sa.AuthKey = buf[len(enc):n:n]
		copy(sa.AuthKey, auth)
	}
}

// ID is unique per SA within a Store and grows with installation order.
func (sa *SA) ID() uint64 { return sa.id }

// State returns the SA's state.
func (sa *SA) State() State { return State(sa.state.Load()) }

// SetState changes the state (control plane).
func (sa *SA) SetState(s State) { sa.state.Store(uint32(s)) }

// Usable reports whether the SA may carry packets.
func (sa *SA) Usable() bool {
	s := sa.State()
	return s == StateMature || s == StateDying
}

// Added returns when the SA was installed.
func (sa *SA) Added() time.Time { return sa.added }

// Counters returns the SA's usage.
func (sa *SA) Counters() Counters {
	c := Counters{
		Bytes: sa.cur.bytes.Load(), Packets: sa.cur.packets.Load(),
		Errors: sa.cur.errors.Load(), AddTime: sa.added,
	}
	if u := sa.cur.firstUs.Load(); u != 0 {
		c.UseTime = time.Unix(0, u)
	}
	return c
}

// Seq returns the last outbound sequence number used.
func (sa *SA) Seq() uint64 { return sa.out.seq.Load() }

// ReserveSeq reserves n consecutive outbound sequence numbers and returns
// the first. Without ESN an SA never wraps: when the numbers would pass
// 2^32-1, ok is false, nothing is reserved, and the SA is marked dead
// (the caller raises a hard expiry through Account's result).
func (sa *SA) ReserveSeq(n int) (first uint64, ok bool) {
	limit := uint64(1<<32 - 1)
	if sa.ESN {
		limit = 1<<64 - 1
	}
	for {
		cur := sa.out.seq.Load()
		if cur > limit-uint64(n) {
			return 0, false
		}
		if sa.out.seq.CompareAndSwap(cur, cur+uint64(n)) {
			return cur + 1, true
		}
	}
}

// Replay gives exclusive access to the inbound replay window for a run
// of packets: call fn with the window locked.
func (sa *SA) Replay(fn func(w *replay.Window)) {
	sa.in.mu.Lock()
	fn(&sa.in.window)
	sa.in.mu.Unlock()
}

// LockReplay locks the replay window and returns it; UnlockReplay
// releases it. For burst code that cannot use a closure without
// allocating.
func (sa *SA) LockReplay() *replay.Window {
	sa.in.mu.Lock()
	return &sa.in.window
}

// UnlockReplay releases the window taken by LockReplay.
func (sa *SA) UnlockReplay() { sa.in.mu.Unlock() }

// Expiry says which lifetime an SA crossed.
type Expiry uint8

// Expiries (bit set: a burst may cross several at once).
const (
	ExpireNone Expiry = 0
	ExpireSoft Expiry = 1 << 0
	ExpireHard Expiry = 1 << 1
)

// Account adds a burst's usage (or an error count) and reports a lifetime
// crossed for the first time by this call. The byte and packet limits are
// checked here, per burst; time limits by CheckTime from a control timer.
func (sa *SA) Account(bytes, packets int, now int64) Expiry {
	if packets == 0 {
		return ExpireNone
	}
	if sa.cur.firstUs.Load() == 0 {
		sa.cur.firstUs.CompareAndSwap(0, now)
	}
	b := sa.cur.bytes.Add(uint64(bytes))
	p := sa.cur.packets.Add(uint64(packets))
	var e Expiry
	if over(sa.Hard, b, p) {
		e |= ExpireHard
	}
	if over(sa.Soft, b, p) {
		e |= ExpireSoft
	}
	return sa.fire(e)
}

// CountError counts a packet dropped for this SA.
func (sa *SA) CountError() { sa.cur.errors.Add(1) }

func over(l Lifetime, bytes, packets uint64) bool {
	return (l.Bytes != 0 && bytes >= l.Bytes) || (l.Packets != 0 && packets >= l.Packets)
}

// fire returns the expiries in e that had not fired before, and marks the
// SA dying (soft) or dead (hard).
func (sa *SA) fire(e Expiry) Expiry {
	for {
		old := sa.cur.fired.Load()
		nw := old | uint32(e)
		if nw == old {
			return ExpireNone
		}
		if sa.cur.fired.CompareAndSwap(old, nw) {
			e = Expiry(nw &^ old)
			if e&ExpireHard != 0 {
				sa.SetState(StateDead)
			} else if e&ExpireSoft != 0 && sa.State() == StateMature {
				sa.SetState(StateDying)
			}
			return e
		}
	}
}

// ExpireNow forces an expiry (for example a sequence-number wrap).
func (sa *SA) ExpireNow(e Expiry) Expiry { return sa.fire(e) }

// CheckTime applies the add-time and use-time limits at now and reports
// newly crossed ones (control timer).
func (sa *SA) CheckTime(now time.Time) Expiry {
	var e Expiry
	first := sa.cur.firstUs.Load()
	check := func(l Lifetime, bit Expiry) {
		if l.AddTime != 0 && now.Sub(sa.added) >= l.AddTime {
			e |= bit
		}
		if l.UseTime != 0 && first != 0 && now.Sub(time.Unix(0, first)) >= l.UseTime {
			e |= bit
		}
	}
	check(sa.Hard, ExpireHard)
	check(sa.Soft, ExpireSoft)
	return sa.fire(e)
}

// Wipe zeroes the key material (on delete); the SA must not be used after.
func (sa *SA) Wipe() {
	clear(sa.EncKey)
	clear(sa.AuthKey)
	if sa.Sess != nil {
		sa.Sess.Wipe()
	}
	sa.SetState(StateDead)
}

// String describes the SA without keys.
func (sa *SA) String() string {
	return fmt.Sprintf("%s %s->%s spi=%#x mode=%s reqid=%d state=%s", sa.Proto, sa.Src, sa.Dst, sa.SPI, sa.Mode, sa.ReqID, sa.State())
}
