package pfkey

import "syscall"

// CheckRequest applies to a decoded message that a client sent the checks
// the dialect's kernel makes before (FreeBSD key_parse) or at the start of
// (Linux af_key handlers) dispatch:
//
//   - the message type has a handler (FreeBSD: EINVAL otherwise; Linux:
//     EOPNOTSUPP), and FreeBSD's request size limit (ENOBUFS);
//   - the SA type suits the message (EINVAL; EOPNOTSUPP on FreeBSD for
//     RSVP, OSPFv2, RIPv2 and MIP);
//   - the extensions each message needs are present (EINVAL): SRC and DST
//     for GETSPI; SA, SRC, DST and the key the SA type needs for ADD and
//     UPDATE, with both or neither of the HARD and SOFT lifetimes; SRC, DST
//     (and on Linux SA) for DELETE; SA, SRC and DST for GET; SRC, DST and
//     PROPOSAL for a non-empty FreeBSD ACQUIRE; SRC, DST and POLICY for
//     SPDADD, SPDUPDATE, SPDSETIDX, SPDDELETE and MIGRATE; POLICY for
//     SPDGET and SPDDELETE2;
//   - SRC and DST have one family and, on FreeBSD, one upper-layer protocol
//     (EINVAL); a SPIRANGE has Min <= Max (EINVAL);
//   - a policy being installed or deleted by selector has a known direction
//     (inbound, outbound, or forward: FreeBSD lacks it, fastipsec routes);
//   - a policy being installed has a known type, and each of
//     its ipsecrequests a known protocol (EPROTONOSUPPORT on FreeBSD,
//     EINVAL on Linux), mode and level, with tunnel endpoints in tunnel
//     mode; an IPsec policy has 1 to MaxRequests requests (EINVAL).
//
// What needs the SAD or SPD (ENOENT, EEXIST, ESRCH ...) is the server's.
func CheckRequest(d Dialect, m *Msg) error {
	if d != FreeBSD && d != Linux {
		return Errorf(syscall.EINVAL, "invalid dialect %d", d)
	}
	if m == nil {
		return Errorf(syscall.EINVAL, "nil message")
	}
	if d == FreeBSD && int(m.Len)*8 > FreeBSDMaxRequestLen {
		return Errorf(syscall.ENOBUFS, "request of %d bytes exceeds %d", int(m.Len)*8, FreeBSDMaxRequestLen)
	}
	if !hasHandler(d, m.Type) {
		if d == Linux && m.Type != MsgReserved && m.Type <= MaxMsgType(d) {
			return Errorf(syscall.EOPNOTSUPP, "message type %d is not a request", m.Type)
		}
		return Errorf(syscall.EINVAL, "message type %d is not a request", m.Type)
	}
	if err := checkSAType(d, m); err != nil {
		return err
	}
	if err := checkRequired(d, m); err != nil {
		return err
	}
	if m.Src != nil && m.Dst != nil {
		if m.Src.Addr.Addr().Is4() != m.Dst.Addr.Addr().Is4() {
			return Errorf(syscall.EINVAL, "source and destination address families differ")
		}
		if d == FreeBSD && m.Src.Proto != m.Dst.Proto {
			return Errorf(syscall.EINVAL, "upper layer protocol mismatched: %d vs %d", m.Src.Proto, m.Dst.Proto)
		}
	}
	if m.Type == MsgGetSPI && m.SPIRange != nil && m.SPIRange.Min > m.SPIRange.Max {
		return extErrorf(syscall.EINVAL, ExtSPIRange, "SPIRANGE: min %#x above max %#x", m.SPIRange.Min, m.SPIRange.Max)
	}
	switch m.Type {
	case MsgSPDAdd, MsgSPDUpdate, MsgSPDSetIdx:
		return checkPolicy(d, m.Policy)
	case MsgSPDDelete:
		if !validDir(m.Policy.Dir) {
			return extErrorf(syscall.EINVAL, ExtPolicy, "X_POLICY: invalid direction %d", m.Policy.Dir)
		}
	}
	return nil
}

// validDir: inbound, outbound or (fastipsec routes, so FreeBSD too) forward.
func validDir(dir uint8) bool { return dir >= DirInbound && dir <= DirFwd }

// MaxRequests is the most ipsecrequests a policy may carry in dialect d
// (FreeBSD IPSEC_MAXREQ 4, Linux XFRM_MAX_DEPTH 6).
func MaxRequests(d Dialect) int {
	if d == Linux {
		return 6
	}
	return 4
}

func hasHandler(d Dialect, t MsgType) bool {
	switch t {
	case MsgGetSPI, MsgUpdate, MsgAdd, MsgDelete, MsgGet, MsgAcquire, MsgRegister,
		MsgFlush, MsgDump, MsgPromisc, MsgSPDUpdate, MsgSPDAdd, MsgSPDDelete, MsgSPDGet,
		MsgSPDDump, MsgSPDFlush, MsgSPDSetIdx, MsgSPDDelete2:
		return true
	case MsgMigrate:
		return d == Linux
	}
	return false
}

// saMessage reports whether t acts on one SA and so needs a real SA type.
func saMessage(t MsgType) bool {
	switch t {
	case MsgGetSPI, MsgUpdate, MsgAdd, MsgDelete, MsgGet, MsgAcquire, MsgExpire:
		return true
	}
	return false
}

func spdMessage(t MsgType) bool {
	switch t {
	case MsgSPDAdd, MsgSPDDelete, MsgSPDGet, MsgSPDFlush, MsgSPDSetIdx, MsgSPDUpdate, MsgSPDDelete2:
		return true
	}
	return false
}

func checkSAType(d Dialect, m *Msg) error {
	st, t := m.SAType, m.Type
	switch st {
	case SATypeUnspec:
		// A bare ACQUIRE (an IKE daemon reporting failure) carries no type on Linux.
		if saMessage(t) && !(d == Linux && t == MsgAcquire) {
			return Errorf(syscall.EINVAL, "message type %d needs an SA type", t)
		}
	case SATypeAH, SATypeESP, SATypeIPComp, SATypeTCPSignature:
		if st == SATypeTCPSignature && d == Linux {
			return Errorf(syscall.EINVAL, "invalid SA type %d", st)
		}
		if d == FreeBSD && spdMessage(t) {
			return Errorf(syscall.EINVAL, "SA type %d on an SPD message", st)
		}
	case SATypeRSVP, SATypeOSPFv2, SATypeRIPv2, SATypeMIP:
		if d == FreeBSD {
			return Errorf(syscall.EOPNOTSUPP, "SA type %d is not supported", st)
		}
		return Errorf(syscall.EINVAL, "SA type %d is not supported", st)
	case 1:
		if t != MsgPromisc {
			return Errorf(syscall.EINVAL, "invalid SA type %d", st)
		}
	default:
		return Errorf(syscall.EINVAL, "invalid SA type %d", st)
	}
	return nil
}

func checkRequired(d Dialect, m *Msg) error {
	need := func(ok bool, what string) error {
		if ok {
			return nil
		}
		return Errorf(syscall.EINVAL, "message type %d needs %s", m.Type, what)
	}
	addrs := m.Src != nil && m.Dst != nil
	switch m.Type {
	case MsgGetSPI:
		return need(addrs, "SRC and DST addresses")
	case MsgAdd, MsgUpdate:
		if err := need(m.SA != nil && addrs, "SA, SRC and DST"); err != nil {
			return err
		}
		if (m.LifetimeHard == nil) != (m.LifetimeSoft == nil) {
			return Errorf(syscall.EINVAL, "HARD and SOFT lifetimes come together")
		}
		switch m.SAType {
		case SATypeESP:
			return need(m.EncKey != nil, "an encryption key")
		case SATypeAH:
			return need(m.AuthKey != nil, "an authentication key")
		}
	case MsgDelete:
		return need(addrs && (d == FreeBSD || m.SA != nil), "SA, SRC and DST")
	case MsgGet:
		return need(m.SA != nil && addrs, "SA, SRC and DST")
	case MsgAcquire:
		if d == FreeBSD && m.Len*8 > HeaderLen {
			return need(addrs && m.Proposal != nil, "SRC, DST and PROPOSAL")
		}
	case MsgSPDAdd, MsgSPDUpdate, MsgSPDSetIdx, MsgSPDDelete, MsgMigrate:
		return need(addrs && m.Policy != nil, "SRC, DST and X_POLICY")
	case MsgSPDGet, MsgSPDDelete2:
		return need(m.Policy != nil, "X_POLICY")
	}
	return nil
}

func checkPolicy(d Dialect, p *Policy) error {
	bad := func(errno syscall.Errno, format string, args ...any) error {
		return extErrorf(errno, ExtPolicy, "X_POLICY: "+format, args...)
	}
	maxType := uint16(PolicyBypass)
	if d == Linux {
		maxType = PolicyIPsec // af_key accepts DISCARD, NONE and IPSEC only
	}
	if p.Type > maxType {
		return bad(syscall.EINVAL, "invalid policy type %d", p.Type)
	}
	if !validDir(p.Dir) {
		return bad(syscall.EINVAL, "invalid direction %d", p.Dir)
	}
	if p.Type != PolicyIPsec {
		return nil
	}
	if len(p.Requests) == 0 || len(p.Requests) > MaxRequests(d) {
		return bad(syscall.EINVAL, "%d ipsecrequests, want 1 to %d", len(p.Requests), MaxRequests(d))
	}
	for i, r := range p.Requests {
		switch r.Proto {
		case ProtoESP, ProtoAH, ProtoIPComp:
		default:
			if d == FreeBSD {
				return bad(syscall.EPROTONOSUPPORT, "request %d: invalid protocol %d", i, r.Proto)
			}
			return bad(syscall.EINVAL, "request %d: invalid protocol %d", i, r.Proto)
		}
		switch {
		case r.Mode == ModeTransport, r.Mode == ModeTunnel:
		case r.Mode == ModeBEET && d == Linux:
		default:
			return bad(syscall.EINVAL, "request %d: invalid mode %d", i, r.Mode)
		}
		if r.Level > LevelUnique || (d == Linux && r.Level == LevelDefault) {
			return bad(syscall.EINVAL, "request %d: invalid level %d", i, r.Level)
		}
		if r.Mode == ModeTunnel && !r.Src.Addr().IsValid() {
			return bad(syscall.EINVAL, "request %d: tunnel mode without endpoints", i)
		}
	}
	return nil
}

// ReplayWindow returns the SA's anti-replay window in packets: on FreeBSD
// SA_REPLAY's count if present, else 8 per byte of sadb_sa_replay; on
// Linux sadb_sa_replay itself. It is 0 without an SA extension.
func (m *Msg) ReplayWindow(d Dialect) uint32 {
	if m.SA == nil {
		return 0
	}
	if d == FreeBSD {
		if m.SAReplay != nil {
			return m.SAReplay.Replay
		}
		return uint32(m.SA.Replay) * 8
	}
	return uint32(m.SA.Replay)
}

// SetReplayWindow stores a window of packets in m.SA (allocated if nil)
// the way the dialect's kernel reports it: FreeBSD rounds up to
// bytes and, above 255 bytes, writes 255 and adds SA_REPLAY with the
// packet count rounded up to a byte (key_setdumpsa); Linux writes the count, capped at 255.
func (m *Msg) SetReplayWindow(d Dialect, packets uint32) {
	if m.SA == nil {
		m.SA = &SA{}
	}
	m.SAReplay = nil
	if d == FreeBSD {
		bytes := (uint64(packets) + 7) / 8
		if bytes > 255 {
			m.SA.Replay = 255
			m.SAReplay = &SAReplay{Replay: uint32(min(bytes*8, 0xffffffff&^7))}
			return
		}
		m.SA.Replay = uint8(bytes)
		return
	}
	m.SA.Replay = uint8(min(packets, 255))
}

// Wipe zeroes the key bytes in place.
func (k *Key) Wipe() {
	if k != nil {
		clear(k.Data)
	}
}

// WipeKeys zeroes both keys of m in place.
func (m *Msg) WipeKeys() {
	m.AuthKey.Wipe()
	m.EncKey.Wipe()
}
