package spd

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// Errors returned by the Store.
var (
	ErrExists   = errors.New("spd: policy exists")    // SPDADD of a (Dir, Selector) already installed
	ErrNotFound = errors.New("spd: policy not found") // SPDDELETE of an absent policy
	ErrInvalid  = errors.New("spd: invalid policy")   // wrapped with the reason
)

// Dir is the direction a policy applies to (values as Linux XFRM numbers
// them, so IDs come out as setkey expects).
type Dir uint8

// Directions.
const (
	DirIn  Dir = iota // packets delivered to this host
	DirOut            // packets this host originates
	DirFwd            // packets forwarded through this host
	numDirs
)

// String names the direction as setkey does.
func (d Dir) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	case DirFwd:
		return "fwd"
	}
	return fmt.Sprintf("dir-%d", uint8(d))
}

// Action is what a policy does with matching packets (IPSEC_POLICY_*).
type Action uint8

// Actions, numbered as PF_KEY's sadb_x_policy_type.
const (
	ActionDiscard Action = iota // drop
	ActionNone                  // pass in the clear
	ActionIPsec                 // apply (out) or require (in) the Requests
	ActionEntrust               // consult the default policy (def_policy)
	ActionBypass                // pass in the clear, also past socket policies
	numActions
)

// String names the action as setkey does.
func (a Action) String() string {
	switch a {
	case ActionDiscard:
		return "discard"
	case ActionNone:
		return "none"
	case ActionIPsec:
		return "ipsec"
	case ActionEntrust:
		return "entrust"
	case ActionBypass:
		return "bypass"
	}
	return fmt.Sprintf("action-%d", uint8(a))
}

// Level is how strictly a request must be met (ipsec_set_policy(3)).
type Level uint8

// Levels, numbered as PF_KEY's IPSEC_LEVEL_*.
const (
	LevelDefault Level = iota // follow the *_deflev sysctl knobs
	LevelUse                  // use an SA if there is one
	LevelRequire              // an SA must exist
	LevelUnique               // an SA must exist and serve only this policy
)

// String names the level as setkey does.
func (l Level) String() string {
	switch l {
	case LevelDefault:
		return "default"
	case LevelUse:
		return "use"
	case LevelRequire:
		return "require"
	case LevelUnique:
		return "unique"
	}
	return fmt.Sprintf("level-%d", uint8(l))
}

// Request is one transform a policy asks for (an ipsecrequest).
type Request struct {
	Proto    sad.Proto
	Mode     sad.Mode
	Src, Dst netip.Addr // tunnel endpoints; invalid for transport
	Level    Level
	ReqID    uint32
}

// AnyProto is the upper-layer protocol wildcard of a Selector.
const AnyProto = -1

// PortRange is an inclusive range of ports (or ICMP types/codes).
type PortRange struct{ Lo, Hi uint16 }

// AnyPort is the port wildcard.
var AnyPort = PortRange{0, 65535}

// IsAny reports whether r covers every port.
func (r PortRange) IsAny() bool { return r.Lo == 0 && r.Hi == 65535 }

// Contains reports whether p is in r.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// Selector is the traffic a policy covers (RFC 4301 §4.4.1.1).
type Selector struct {
	Src, Dst netip.Prefix // both of one family; 0.0.0.0/0 or ::/0 = any
	Proto    int          // upper-layer protocol 0..255, or AnyProto
	// SrcPort and DstPort are the port ranges; for ICMP and ICMPv6 they
	// carry the type and the code (as PF_KEY and setkey's `icmp6 135,0`).
	SrcPort, DstPort PortRange
}

// Validate reports why s cannot be installed, or nil.
func (s Selector) Validate() error {
	switch {
	case !s.Src.IsValid() || !s.Dst.IsValid():
		return fmt.Errorf("%w: invalid prefix", ErrInvalid)
	case s.Src.Addr().Is4() != s.Dst.Addr().Is4():
		return fmt.Errorf("%w: mixed address families", ErrInvalid)
	case s.Src.Addr().Zone() != "" || s.Dst.Addr().Zone() != "":
		return fmt.Errorf("%w: zoned address", ErrInvalid)
	case s.Proto < AnyProto || s.Proto > 255:
		return fmt.Errorf("%w: protocol %d", ErrInvalid, s.Proto)
	case s.SrcPort.Lo > s.SrcPort.Hi || s.DstPort.Lo > s.DstPort.Hi:
		return fmt.Errorf("%w: empty port range", ErrInvalid)
	}
	return nil
}

// normalize masks the prefixes so equal selectors compare equal.
func (s Selector) normalize() Selector {
	s.Src, s.Dst = s.Src.Masked(), s.Dst.Masked()
	return s
}

// Matches reports whether k falls within s (the reference semantics the
// classifier implements; s must be valid and normalized).
func (s *Selector) Matches(k *Key) bool {
	if s.Src.Addr().Is4() == k.V6 {
		return false
	}
	if s.Proto != AnyProto && s.Proto != int(k.Proto) {
		return false
	}
	if k.Opaque {
		if !s.SrcPort.IsAny() || !s.DstPort.IsAny() {
			return false
		}
	} else if !s.SrcPort.Contains(k.SrcPort) || !s.DstPort.Contains(k.DstPort) {
		return false
	}
	return s.Src.Contains(k.SrcAddr()) && s.Dst.Contains(k.DstAddr())
}

// String renders s roughly as setkey does.
func (s Selector) String() string {
	proto := "any"
	if s.Proto != AnyProto {
		proto = fmt.Sprint(s.Proto)
	}
	return fmt.Sprintf("%s[%s] %s[%s] %s", s.Src, portString(s.SrcPort), s.Dst, portString(s.DstPort), proto)
}

func portString(r PortRange) string {
	switch {
	case r.IsAny():
		return "any"
	case r.Lo == r.Hi:
		return fmt.Sprint(r.Lo)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// Policy is one SPD entry. Installed policies are immutable: Lookup and
// Walk hand out pointers that must not be written through.
type Policy struct {
	ID       uint32 // set by the Store: n<<3 | dir, as Linux setkey expects
	Dir      Dir
	Priority int32 // higher wins; ties go to the earlier installed
	Selector Selector
	Action   Action
	Requests []Request
	// Lifetime and UseLifetime bound the policy's age and idle time
	// (0 = none); enforcement belongs to the control plane.
	Lifetime    time.Duration
	UseLifetime time.Duration
	Seq         uint64    // set by the Store: installation order
	Created     time.Time // set by the Store
	// lastUse is the unix second a packet last matched the policy (0:
	// never). It is the one part of an installed policy that changes, so
	// it lives behind a pointer the Store sets and every copy shares.
	lastUse *atomic.Int64
}

// MarkUsed records that a packet matched p in unix second sec (cores call
// it at most once per burst per policy). It stores only when the second
// moves on, so cores sharing a policy read its line and write it once a
// second, not per packet. A policy the Store did not install ignores it.
func (p *Policy) MarkUsed(sec int64) {
	if u := p.lastUse; u != nil && u.Load() < sec {
		u.Store(sec)
	}
}

// LastUsed is when a packet last matched p (to the second); zero if none
// has since it was installed.
func (p *Policy) LastUsed() time.Time {
	if p.lastUse == nil {
		return time.Time{}
	}
	if sec := p.lastUse.Load(); sec != 0 {
		return time.Unix(sec, 0)
	}
	return time.Time{}
}

// IdleSince is when p last did something: its last use, or its
// installation if it has not been used since (FreeBSD starts lastused at
// the creation time). UseLifetime counts from it.
func (p *Policy) IdleSince() time.Time {
	if u := p.LastUsed(); u.After(p.Created) {
		return u
	}
	return p.Created
}

// Endpoints returns the addresses the SA for request k runs between when
// the policy is applied to a packet from src to dst: a tunnel request's
// own endpoints; for a transport request, those of the closest tunnel
// request before it in the bundle (whose outer header it will see), else
// the packet's (as key.c's ipsec_setspidx does).
func (p *Policy) Endpoints(k int, src, dst netip.Addr) (netip.Addr, netip.Addr) {
	for j := k; j >= 0; j-- {
		if r := &p.Requests[j]; r.Mode == sad.ModeTunnel {
			return r.Src, r.Dst
		}
	}
	return src, dst
}

// before reports whether a precedes b in lookup order.
func before(a, b *Policy) bool {
	return a.Priority > b.Priority || a.Priority == b.Priority && a.Seq < b.Seq
}

// validate checks a policy the caller wants installed.
func (p *Policy) validate() error {
	if p.Dir >= numDirs {
		return fmt.Errorf("%w: direction %d", ErrInvalid, p.Dir)
	}
	if p.Action >= numActions {
		return fmt.Errorf("%w: action %d", ErrInvalid, p.Action)
	}
	if p.Action == ActionIPsec && len(p.Requests) == 0 {
		return fmt.Errorf("%w: ipsec policy without requests", ErrInvalid)
	}
	for i := range p.Requests {
		if p.Requests[i].Level > LevelUnique {
			return fmt.Errorf("%w: level %d", ErrInvalid, p.Requests[i].Level)
		}
	}
	return p.Selector.Validate()
}
