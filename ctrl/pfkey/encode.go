package pfkey

import (
	"encoding/binary"
	"net/netip"
	"syscall"
)

// Encode lays m out as one message of dialect d: the base header with
// sadb_msg_len computed (m.Len is ignored; Version 0 is written as 2), then
// the present extensions in the order m.Order gives, the rest in
// ascending type order, Unknown extensions last unless Order places them.
// Every extension and ipsecrequest is padded to 8 bytes with zeros and
// its length written in the dialect's unit.
//
// Encode fails with EINVAL when m cannot be represented in d: an
// extension the dialect lacks, an address that is neither IPv4 nor IPv6
// (or carries a zone: use ScopeID), a prefix longer than the address, key
// Data whose length is not (Bits+7)/8, a FreeBSD reqid above 0xffff, an
// Errno above 255, ... and with EMSGSIZE when the message exceeds
// MaxMsgLen.
func Encode(d Dialect, m *Msg) ([]byte, error) {
	return Append(d, nil, m)
}

// Append is Encode appending to dst (which it may grow); on error dst is
// returned unchanged.
func Append(d Dialect, dst []byte, m *Msg) ([]byte, error) {
	if d != FreeBSD && d != Linux {
		return dst, Errorf(syscall.EINVAL, "invalid dialect %d", d)
	}
	if m == nil {
		return dst, Errorf(syscall.EINVAL, "nil message")
	}
	if m.Errno > 255 {
		return dst, Errorf(syscall.EINVAL, "errno %d does not fit sadb_msg_errno", uint64(m.Errno))
	}
	start := len(dst)
	b := append(dst, make([]byte, HeaderLen)...)
	h := b[start:]
	h[0] = m.Version
	if h[0] == 0 {
		h[0] = Version
	}
	h[1], h[2], h[3] = byte(m.Type), byte(m.Errno), byte(m.SAType)
	host.PutUint16(h[6:], m.Reserved)
	host.PutUint32(h[8:], m.Seq)
	host.PutUint32(h[12:], m.PID)

	var done [numKinds]bool
	unknownDone := make([]bool, len(m.Unknown))
	var err error
	for _, t := range m.Order {
		k := kindOf(d, t)
		if k == kNone {
			for i, u := range m.Unknown {
				if !unknownDone[i] && u.Type == t {
					unknownDone[i] = true
					if b, err = appendRaw(d, b, u); err != nil {
						return dst, err
					}
					break
				}
			}
			continue
		}
		if done[k] || !m.present(k) {
			continue
		}
		done[k] = true
		if b, err = m.appendExt(d, b, k); err != nil {
			return dst, err
		}
	}
	for k := kSA; k < numKinds; k++ {
		if done[k] || !m.present(k) {
			continue
		}
		if !k.in(d) {
			return dst, Errorf(syscall.EINVAL, "%s extension does not exist in the %v dialect", specs[k].name, d)
		}
		if b, err = m.appendExt(d, b, k); err != nil {
			return dst, err
		}
	}
	for i, u := range m.Unknown {
		if !unknownDone[i] {
			if b, err = appendRaw(d, b, u); err != nil {
				return dst, err
			}
		}
	}
	n := len(b) - start
	if n > MaxMsgLen {
		return dst, Errorf(syscall.EMSGSIZE, "message of %d bytes exceeds %d", n, MaxMsgLen)
	}
	host.PutUint16(b[start+4:], uint16(n/8))
	return b, nil
}

func appendRaw(d Dialect, b []byte, u RawExt) ([]byte, error) {
	if d != Linux || u.Type <= MaxExtType(Linux) {
		return b, extErrorf(syscall.EINVAL, u.Type, "raw extension type not representable in %v", d)
	}
	if (ExtHdrLen+len(u.Data))%8 != 0 {
		return b, extErrorf(syscall.EINVAL, u.Type, "raw extension of %d bytes is not a multiple of 8", ExtHdrLen+len(u.Data))
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = append(b, u.Data...)
	return finishExt(b, start, u.Type)
}

// finishExt pads the extension begun at start and writes its header.
func finishExt(b []byte, start int, t ExtType) ([]byte, error) {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	words := (len(b) - start) / 8
	if words > 0xffff {
		return b, extErrorf(syscall.EMSGSIZE, t, "extension of %d bytes is too long", len(b)-start)
	}
	host.PutUint16(b[start:], uint16(words))
	host.PutUint16(b[start+2:], uint16(t))
	return b, nil
}

func checkAddr(t ExtType, name string, a netip.Addr) error {
	switch {
	case !a.IsValid():
		return extErrorf(syscall.EINVAL, t, "%s: missing address", name)
	case a.Zone() != "":
		return extErrorf(syscall.EINVAL, t, "%s: address has a zone; set ScopeID instead", name)
	}
	return nil
}

// appendPair appends two sockaddrs of one family padded to 8 bytes.
func appendPair(d Dialect, b []byte, t ExtType, name string, x, y netip.AddrPort) ([]byte, error) {
	if err := checkAddr(t, name, x.Addr()); err != nil {
		return b, err
	}
	if err := checkAddr(t, name, y.Addr()); err != nil {
		return b, err
	}
	if x.Addr().Is4() != y.Addr().Is4() {
		return b, extErrorf(syscall.EINVAL, t, "%s: address pair of mixed families", name)
	}
	start := len(b)
	b = appendSockaddr(d, b, sockaddr{ap: x})
	b = appendSockaddr(d, b, sockaddr{ap: y})
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b, nil
}

// appendExt appends extension k of m.
func (m *Msg) appendExt(d Dialect, b []byte, k kind) ([]byte, error) {
	t, ok := wireOf(d, k)
	if !ok {
		return b, Errorf(syscall.EINVAL, "%s extension does not exist in the %v dialect", specs[k].name, d)
	}
	name := specs[k].name
	bad := func(format string, args ...any) ([]byte, error) {
		return b, extErrorf(syscall.EINVAL, t, name+": "+format, args...)
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	le16 := func(v uint16) { b = host.AppendUint16(b, v) }
	le32 := func(v uint32) { b = host.AppendUint32(b, v) }
	le64 := func(v uint64) { b = host.AppendUint64(b, v) }
	switch k {
	case kSA:
		s := m.SA
		b = binary.BigEndian.AppendUint32(b, s.SPI)
		b = append(b, s.Replay, byte(s.State), s.Auth, s.Encrypt)
		le32(s.Flags)
	case kLifetimeCurrent, kLifetimeHard, kLifetimeSoft:
		lt := m.LifetimeCurrent
		if k == kLifetimeHard {
			lt = m.LifetimeHard
		} else if k == kLifetimeSoft {
			lt = m.LifetimeSoft
		}
		le32(lt.Allocations)
		le64(lt.Bytes)
		le64(lt.AddTime)
		le64(lt.UseTime)
	case kSrc, kDst, kProxy, kNATTOAI, kNATTOAR, kNewSrc, kNewDst:
		a := *m.addrField(k)
		if err := checkAddr(t, name, a.Addr.Addr()); err != nil {
			return b, err
		}
		if int(a.PrefixLen) > maxPrefix(a.Addr.Addr()) {
			return bad("prefix length %d", a.PrefixLen)
		}
		b = append(b, a.Proto, a.PrefixLen)
		le16(a.Reserved)
		b = appendSockaddr(d, b, sockaddr{ap: a.Addr, flowInfo: a.FlowInfo, scopeID: a.ScopeID})
	case kKeyAuth, kKeyEncrypt:
		key := m.AuthKey
		if k == kKeyEncrypt {
			key = m.EncKey
		}
		if len(key.Data) != (int(key.Bits)+7)/8 {
			return bad("%d bytes of data for %d bits", len(key.Data), key.Bits)
		}
		le16(key.Bits)
		le16(key.Reserved)
		b = append(b, key.Data...)
	case kIdentitySrc, kIdentityDst:
		id := m.SrcIdentity
		if k == kIdentityDst {
			id = m.DstIdentity
		}
		if len(id.Data)%8 != 0 {
			return bad("data of %d bytes is not padded to 8", len(id.Data))
		}
		le16(id.Type)
		le16(id.Reserved)
		le64(id.ID)
		b = append(b, id.Data...)
	case kSensitivity:
		s := m.Sensitivity
		if len(s.SensBitmap)%8 != 0 || len(s.IntegBitmap)%8 != 0 ||
			len(s.SensBitmap) > 255*8 || len(s.IntegBitmap) > 255*8 {
			return bad("bitmaps of %d and %d bytes", len(s.SensBitmap), len(s.IntegBitmap))
		}
		le32(s.DPD)
		b = append(b, s.SensLevel, byte(len(s.SensBitmap)/8), s.IntegLevel, byte(len(s.IntegBitmap)/8))
		le32(s.Reserved)
		b = append(b, s.SensBitmap...)
		b = append(b, s.IntegBitmap...)
	case kProposal:
		p := m.Proposal
		b = append(b, p.Replay, p.Reserved[0], p.Reserved[1], p.Reserved[2])
		for _, c := range p.Combs {
			b = append(b, c.Auth, c.Encrypt)
			le16(c.Flags)
			le16(c.AuthMinBits)
			le16(c.AuthMaxBits)
			le16(c.EncryptMinBits)
			le16(c.EncryptMaxBits)
			le32(c.Reserved)
			le32(c.SoftAllocations)
			le32(c.HardAllocations)
			le64(c.SoftBytes)
			le64(c.HardBytes)
			le64(c.SoftAddTime)
			le64(c.HardAddTime)
			le64(c.SoftUseTime)
			le64(c.HardUseTime)
		}
	case kSupportedAuth, kSupportedEncrypt:
		s := m.SupportedAuth
		if k == kSupportedEncrypt {
			s = m.SupportedEncrypt
		}
		le32(s.Reserved)
		for _, a := range s.Algs {
			b = append(b, a.ID, a.IVLen)
			le16(a.MinBits)
			le16(a.MaxBits)
			le16(a.Reserved)
		}
	case kSPIRange:
		le32(m.SPIRange.Min)
		le32(m.SPIRange.Max)
		le32(m.SPIRange.Reserved)
	case kKMPrivate:
		if len(m.KMPrivate.Data)%8 != 0 {
			return bad("data of %d bytes is not padded to 8", len(m.KMPrivate.Data))
		}
		le32(m.KMPrivate.Reserved)
		b = append(b, m.KMPrivate.Data...)
	case kPolicy:
		p := m.Policy
		le16(p.Type)
		b = append(b, p.Dir, p.Scope)
		le32(p.ID)
		le32(p.Priority)
		for i := range p.Requests {
			var err error
			if b, err = appendRequest(d, b, t, &p.Requests[i]); err != nil {
				return b, err
			}
		}
	case kSA2:
		s := m.SA2
		b = append(b, s.Mode, s.Reserved1)
		le16(s.Reserved2)
		le32(s.Sequence)
		le32(s.ReqID)
	case kNATTType:
		b = append(b, m.NATTType.Type, m.NATTType.Reserved[0], m.NATTType.Reserved[1], m.NATTType.Reserved[2])
	case kNATTSport, kNATTDport:
		np := m.NATTSport
		if k == kNATTDport {
			np = m.NATTDport
		}
		b = binary.BigEndian.AppendUint16(b, np.Port)
		le16(np.Reserved)
	case kNATTFrag:
		le16(m.NATTFrag.FragLen)
		le16(m.NATTFrag.Reserved)
	case kSAReplay:
		le32(m.SAReplay.Replay)
	case kSecCtx:
		c := m.SecCtx
		if len(c.Context) > maxSecCtx {
			return bad("context of %d bytes", len(c.Context))
		}
		b = append(b, c.Alg, c.DOI)
		le16(uint16(len(c.Context)))
		b = append(b, c.Context...)
	case kKMAddress:
		le32(m.KMAddress.Reserved)
		var err error
		if b, err = appendPair(d, b, t, name, m.KMAddress.Local, m.KMAddress.Remote); err != nil {
			return b, err
		}
	case kFilter:
		f := m.Filter
		if err := checkAddr(t, name, f.Src); err != nil {
			return b, err
		}
		if err := checkAddr(t, name, f.Dst); err != nil {
			return b, err
		}
		if f.Src.Is4() != f.Dst.Is4() {
			return bad("addresses of mixed families")
		}
		if int(f.SrcPrefixLen) > maxPrefix(f.Src) || int(f.DstPrefixLen) > maxPrefix(f.Dst) {
			return bad("prefix lengths %d/%d", f.SrcPrefixLen, f.DstPrefixLen)
		}
		var sa, da [16]byte
		if f.Src.Is4() {
			s4, d4 := f.Src.As4(), f.Dst.As4()
			copy(sa[:], s4[:])
			copy(da[:], d4[:])
		} else {
			sa, da = f.Src.As16(), f.Dst.As16()
		}
		b = append(b, sa[:]...)
		b = append(b, da[:]...)
		le16(uint16(family(Linux, f.Src)))
		b = append(b, f.SrcPrefixLen, f.DstPrefixLen)
	}
	return finishExt(b, start, t)
}

// appendRequest appends one ipsecrequest with its optional address pair.
func appendRequest(d Dialect, b []byte, t ExtType, r *IPsecRequest) ([]byte, error) {
	hasSrc, hasDst := r.Src.Addr().IsValid(), r.Dst.Addr().IsValid()
	if hasSrc != hasDst {
		return b, extErrorf(syscall.EINVAL, t, "X_POLICY: ipsecrequest with only one tunnel endpoint")
	}
	if d == FreeBSD && r.ReqID > FreeBSDMaxReqID {
		return b, extErrorf(syscall.EINVAL, t, "X_POLICY: reqid %d does not fit FreeBSD's 16 bits", r.ReqID)
	}
	start := len(b)
	b = host.AppendUint16(b, 0) // length, set below
	b = host.AppendUint16(b, r.Proto)
	b = append(b, r.Mode, r.Level)
	if d == Linux {
		b = append(b, 0, 0)
		b = host.AppendUint32(b, r.ReqID)
		b = append(b, 0, 0, 0, 0)
	} else {
		b = host.AppendUint16(b, uint16(r.ReqID))
	}
	if hasSrc {
		var err error
		if b, err = appendPair(d, b, t, "X_POLICY: ipsecrequest", r.Src, r.Dst); err != nil {
			return b, err
		}
	}
	host.PutUint16(b[start:], uint16(len(b)-start))
	return b, nil
}
