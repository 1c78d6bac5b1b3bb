package keyserver

import (
	"math"
	"net/netip"
	"syscall"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// prioBase is PF_KEY's default priority (PRIORITY_DEFAULT): the wire is
// "lower wins", the SPD "higher wins", and setkey's prio N is
// prioBase - N on the wire, N in the SPD.
const prioBase = 0x80000000

// prioFromWire converts sadb_x_policy_priority to spd.Policy.Priority.
func prioFromWire(w uint32) int32 {
	return int32(max(min(int64(prioBase)-int64(w), math.MaxInt32), math.MinInt32))
}

// prioToWire is the inverse of prioFromWire.
func prioToWire(p int32) uint32 {
	return uint32(min(int64(prioBase)-int64(p), math.MaxUint32))
}

func dirFromWire(d uint8) (spd.Dir, error) {
	switch d {
	case pfkey.DirInbound:
		return spd.DirIn, nil
	case pfkey.DirOutbound:
		return spd.DirOut, nil
	case pfkey.DirFwd:
		return spd.DirFwd, nil
	}
	return 0, pfkey.Errorf(syscall.EINVAL, "policy direction %d", d)
}

func dirToWire(d spd.Dir) uint8 {
	switch d {
	case spd.DirIn:
		return pfkey.DirInbound
	case spd.DirOut:
		return pfkey.DirOutbound
	}
	return pfkey.DirFwd
}

// selector reads a policy's selector from the address extensions: the
// prefixes, sadb_address_proto (255: any) and the ports (0: any; for
// ICMP the type and code).
func selector(m *pfkey.Msg) (spd.Selector, error) {
	if m.Src == nil || m.Dst == nil {
		return spd.Selector{}, pfkey.Errorf(syscall.EINVAL, "source and destination selectors required")
	}
	sa, da := m.Src.Addr.Addr().Unmap(), m.Dst.Addr.Addr().Unmap()
	sp, err := sa.Prefix(int(m.Src.PrefixLen))
	if err != nil {
		return spd.Selector{}, pfkey.Errorf(syscall.EINVAL, "source prefix: %v", err)
	}
	dp, err := da.Prefix(int(m.Dst.PrefixLen))
	if err != nil {
		return spd.Selector{}, pfkey.Errorf(syscall.EINVAL, "destination prefix: %v", err)
	}
	if m.Src.Proto != m.Dst.Proto {
		return spd.Selector{}, pfkey.Errorf(syscall.EINVAL, "source and destination protocols differ")
	}
	sel := spd.Selector{Src: sp, Dst: dp, Proto: int(m.Src.Proto), SrcPort: port(m.Src.Addr.Port()), DstPort: port(m.Dst.Addr.Port())}
	if m.Src.Proto == pfkey.ProtoAny {
		sel.Proto = spd.AnyProto
	}
	if err := sel.Validate(); err != nil {
		return sel, pfkey.Errorf(syscall.EINVAL, "%v", err)
	}
	return sel, nil
}

func port(p uint16) spd.PortRange {
	if p == 0 {
		return spd.AnyPort
	}
	return spd.PortRange{Lo: p, Hi: p}
}

// policyFromMsg is the SPD entry an SPDADD describes.
func policyFromMsg(m *pfkey.Msg) (spd.Policy, error) {
	var p spd.Policy
	if m.Policy == nil {
		return p, pfkey.Errorf(syscall.EINVAL, "policy extension required")
	}
	sel, err := selector(m)
	if err != nil {
		return p, err
	}
	if p.Dir, err = dirFromWire(m.Policy.Dir); err != nil {
		return p, err
	}
	if m.Policy.Type > pfkey.PolicyBypass {
		return p, pfkey.Errorf(syscall.EINVAL, "policy type %d", m.Policy.Type)
	}
	p.Selector, p.Action, p.Priority = sel, spd.Action(m.Policy.Type), prioFromWire(m.Policy.Priority)
	for _, r := range m.Policy.Requests {
		if r.Mode > pfkey.ModeTunnel || r.Level > pfkey.LevelUnique {
			return p, pfkey.Errorf(syscall.EINVAL, "ipsecrequest mode %d level %d", r.Mode, r.Level)
		}
		switch r.Proto {
		case pfkey.ProtoESP, pfkey.ProtoAH, pfkey.ProtoIPComp:
		default:
			return p, pfkey.Errorf(syscall.EINVAL, "ipsecrequest protocol %d", r.Proto)
		}
		q := spd.Request{Proto: sad.Proto(r.Proto), Mode: sad.Mode(r.Mode), Level: spd.Level(r.Level), ReqID: r.ReqID}
		if r.Src.IsValid() {
			q.Src, q.Dst = r.Src.Addr().Unmap(), r.Dst.Addr().Unmap()
		}
		if q.Mode == sad.ModeTunnel && !q.Src.IsValid() {
			return p, pfkey.Errorf(syscall.EINVAL, "tunnel request without endpoints")
		}
		p.Requests = append(p.Requests, q)
	}
	if l := m.LifetimeHard; l != nil {
		p.Lifetime = time.Duration(l.AddTime) * time.Second
		p.UseLifetime = time.Duration(l.UseTime) * time.Second
	}
	return p, nil
}

// wirePolicy is an SPD entry's sadb_x_policy.
func wirePolicy(d pfkey.Dialect, p *spd.Policy) (*pfkey.Policy, error) {
	w := &pfkey.Policy{Type: uint16(p.Action), Dir: dirToWire(p.Dir), ID: p.ID, Priority: prioToWire(p.Priority)}
	if d == pfkey.FreeBSD {
		w.Scope = pfkey.ScopeGlobal
	}
	for _, r := range p.Requests {
		q := pfkey.IPsecRequest{Proto: uint16(r.Proto), Mode: uint8(r.Mode), Level: uint8(r.Level), ReqID: r.ReqID}
		if r.Src.IsValid() && r.Dst.IsValid() {
			q.Src, q.Dst = netip.AddrPortFrom(r.Src, 0), netip.AddrPortFrom(r.Dst, 0)
		}
		w.Requests = append(w.Requests, q)
	}
	return w, nil
}

// selectorAddr is one side of a selector as an address extension.
func selectorAddr(pfx netip.Prefix, proto int, ports spd.PortRange) *pfkey.Address {
	a := &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(pfx.Bits()), Addr: netip.AddrPortFrom(pfx.Addr(), 0)}
	if proto != spd.AnyProto {
		a.Proto = uint8(proto)
	}
	if !ports.IsAny() {
		a.Addr = netip.AddrPortFrom(pfx.Addr(), ports.Lo)
	}
	return a
}

// policyMsg describes p as SPDGET, SPDDUMP and SPDEXPIRE do
// (key_setdumpsp): selectors, policy, current (created, last used) and
// hard lifetimes.
func policyMsg(d pfkey.Dialect, h pfkey.Header, p *spd.Policy) (*pfkey.Msg, error) {
	w, err := wirePolicy(d, p)
	if err != nil {
		return nil, err
	}
	m := &pfkey.Msg{Header: h, Policy: w,
		Src: selectorAddr(p.Selector.Src, p.Selector.Proto, p.Selector.SrcPort),
		Dst: selectorAddr(p.Selector.Dst, p.Selector.Proto, p.Selector.DstPort),
		LifetimeCurrent: &pfkey.Lifetime{AddTime: uint64(max(p.Created.Unix(), 0)),
			UseTime: uint64(max(p.IdleSince().Unix(), 0))},
		LifetimeHard: &pfkey.Lifetime{AddTime: uint64(p.Lifetime / time.Second),
			UseTime: uint64(p.UseLifetime / time.Second)},
	}
	return m, nil
}

// spdAdd is SADB_X_SPDADD, SPDSETIDX (an add) and SPDUPDATE (replace or
// add); the reply, with the policy's id, goes to everyone.
func (s *Server) spdAdd(cl *client, m *pfkey.Msg) error {
	p, err := policyFromMsg(m)
	if err != nil {
		return err
	}
	if m.Type == pfkey.MsgSPDUpdate {
		p, err = s.m.SPD.Update(p)
	} else {
		p, err = s.m.SPD.Add(p)
	}
	if err != nil {
		return err
	}
	s.m.WatchPolicy(p)
	out := withoutKeys(m)
	pol := *m.Policy
	pol.ID = p.ID
	out.Policy = &pol
	s.send(cl, toAll, 0, out, false)
	return nil
}

// spdDelete is SADB_X_SPDDELETE: by direction and selector.
func (s *Server) spdDelete(cl *client, m *pfkey.Msg) error {
	if m.Policy == nil {
		return pfkey.Errorf(syscall.EINVAL, "policy extension required")
	}
	sel, err := selector(m)
	if err != nil {
		return err
	}
	dir, err := dirFromWire(m.Policy.Dir)
	if err != nil {
		return err
	}
	p, err := s.m.SPD.Delete(dir, sel)
	if err != nil {
		return err
	}
	out := withoutKeys(m)
	pol := *m.Policy
	pol.ID = p.ID
	out.Policy = &pol
	s.send(cl, toAll, 0, out, false)
	return nil
}

// spdDelete2 is SADB_X_SPDDELETE2: by policy id.
func (s *Server) spdDelete2(cl *client, m *pfkey.Msg) error {
	if m.Policy == nil {
		return pfkey.Errorf(syscall.EINVAL, "policy extension required")
	}
	p, err := s.m.SPD.DeleteID(m.Policy.ID)
	if err != nil {
		return err
	}
	pol := *m.Policy
	pol.Dir = dirToWire(p.Dir)
	pol.Requests = nil
	s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m), Policy: &pol}, false)
	return nil
}

// spdGet is SADB_X_SPDGET: the policy with this id, to the requester.
func (s *Server) spdGet(cl *client, m *pfkey.Msg) error {
	if m.Policy == nil {
		return pfkey.Errorf(syscall.EINVAL, "policy extension required")
	}
	p, ok := s.m.SPD.Get(m.Policy.ID)
	if !ok {
		return pfkey.Errorf(syscall.ENOENT, "no policy %d", m.Policy.ID)
	}
	out, err := policyMsg(cl.d(), reply(m), &p)
	if err != nil {
		return err
	}
	s.send(cl, toOne, 0, out, false)
	return nil
}

// spdDump is SADB_X_SPDDUMP: one message per policy, seq down to 0.
func (s *Server) spdDump(cl *client, m *pfkey.Msg) error {
	var ps []*spd.Policy
	s.m.SPD.Walk(func(p *spd.Policy) bool { ps = append(ps, p); return true })
	if len(ps) == 0 {
		return pfkey.Errorf(syscall.ENOENT, "no policy")
	}
	d := cl.d()
	for i, p := range ps {
		if cl.c.Closed() {
			return nil
		}
		h := reply(m)
		h.Seq = uint32(len(ps) - 1 - i)
		if out, err := policyMsg(d, h, p); err == nil {
			s.send(cl, toOne, 0, out, false)
		}
		ps[i] = nil
	}
	return nil
}

// spdFlush is SADB_X_SPDFLUSH.
func (s *Server) spdFlush(cl *client, m *pfkey.Msg) error {
	s.m.SPD.Flush()
	s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m)}, false)
	return nil
}

// spdExpire sends SADB_X_SPDEXPIRE for a policy removed at the end of its
// lifetime (Manager listener) to the registered clients.
func (s *Server) spdExpire(p spd.Policy) {
	h := pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgSPDExpire}
	s.sendBuilt(toRegistered, pfkey.SATypeUnspec, func(d pfkey.Dialect) *pfkey.Msg {
		m, err := policyMsg(d, h, &p)
		if err != nil {
			return nil
		}
		return m
	})
}
