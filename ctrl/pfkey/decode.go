package pfkey

import (
	"encoding/binary"
	"net/netip"
	"syscall"
)

// lengthErrno is the errno for a message whose size is wrong: FreeBSD's
// key_output/key_parse say EINVAL, Linux's pfkey_get_base_msg EMSGSIZE.
func lengthErrno(d Dialect) syscall.Errno {
	if d == Linux {
		return syscall.EMSGSIZE
	}
	return syscall.EINVAL
}

// ParseHeader reads the base header from the first 16 bytes of b without
// validating anything else, so a server can echo seq, pid, type and
// satype in an error reply even when Decode fails. It fails only when b is
// shorter than HeaderLen (EMSGSIZE).
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, Errorf(syscall.EMSGSIZE, "message of %d bytes is shorter than sadb_msg", len(b))
	}
	return Header{
		Version:  b[0],
		Type:     MsgType(b[1]),
		Errno:    syscall.Errno(b[2]),
		SAType:   SAType(b[3]),
		Len:      host.Uint16(b[4:]),
		Reserved: host.Uint16(b[6:]),
		Seq:      host.Uint32(b[8:]),
		PID:      host.Uint32(b[12:]),
	}, nil
}

// Decode parses exactly one message of dialect d from b. It checks the
// base header (version 2, a message type the dialect knows, Linux's zero
// reserved field, sadb_msg_len*8 == len(b)), then every extension:
// nonzero length within the message, a type the dialect knows (Linux
// keeps types above its SADB_EXT_MAX in Msg.Unknown, FreeBSD rejects
// them), no duplicates, the min/max length table, and each extension's
// own layout (sockaddr families and sizes, prefix lengths, key bits,
// ipsecrequest lengths, ...).
//
// It returns either a complete message or an *Error whose Errno is what
// the dialect's kernel answers (EINVAL mostly; EMSGSIZE for Linux length
// errors; EAFNOSUPPORT for FreeBSD sockaddrs of other families); never a
// partial message. Decode copies everything it keeps: b may be reused.
func Decode(d Dialect, b []byte) (*Msg, error) { return DecodeIn(d, b, nil) }

// DecodeIn is Decode taking the message's memory from a (nil: the heap);
// the message is then valid only until a.Reset.
func DecodeIn(d Dialect, b []byte, a *Arena) (*Msg, error) {
	if d != FreeBSD && d != Linux {
		return nil, Errorf(syscall.EINVAL, "invalid dialect %d", d)
	}
	if len(b) < HeaderLen {
		return nil, Errorf(lengthErrno(d), "message of %d bytes is shorter than sadb_msg", len(b))
	}
	h, _ := ParseHeader(b)
	switch {
	case h.Version != Version:
		return nil, Errorf(syscall.EINVAL, "sadb_msg_version %d, want %d", h.Version, Version)
	case h.Type == MsgReserved || h.Type > MaxMsgType(d):
		return nil, Errorf(syscall.EINVAL, "invalid message type %d", h.Type)
	case d == Linux && h.Reserved != 0:
		return nil, Errorf(syscall.EINVAL, "sadb_msg_reserved is %d, want 0", h.Reserved)
	case int(h.Len)*8 != len(b):
		return nil, Errorf(lengthErrno(d), "sadb_msg_len says %d bytes, message has %d", int(h.Len)*8, len(b))
	}
	var blk *block
	var m *Msg
	if a != nil {
		blk = a.next()
		m = &blk.msg
		m.Order = blk.order[:0]
	} else {
		m = new(Msg)
	}
	m.Header = h
	var seen [numKinds]bool
	for off := HeaderLen; off < len(b); {
		rest := b[off:]
		if len(rest) < 8 {
			return nil, Errorf(syscall.EINVAL, "%d stray bytes after the last extension", len(rest))
		}
		n := int(host.Uint16(rest)) * 8
		t := ExtType(host.Uint16(rest[2:]))
		switch {
		case n == 0:
			return nil, extErrorf(syscall.EINVAL, t, "extension of length 0")
		case n > len(rest):
			return nil, extErrorf(syscall.EINVAL, t, "extension of %d bytes overruns the message (%d left)", n, len(rest))
		case t == ExtReserved:
			return nil, extErrorf(syscall.EINVAL, t, "reserved extension type")
		}
		p := rest[:n]
		off += n
		k := kindOf(d, t)
		if k == kNone {
			if d == Linux && t > MaxExtType(Linux) {
				m.Unknown = append(m.Unknown, RawExt{Type: t, Data: clone(p[ExtHdrLen:])})
				m.Order = append(m.Order, t)
				continue
			}
			return nil, extErrorf(syscall.EINVAL, t, "extension type not accepted by %v", d)
		}
		if seen[k] {
			return nil, extErrorf(syscall.EINVAL, t, "duplicate %s extension", specs[k].name)
		}
		seen[k] = true
		if s := specs[k]; n < s.min || (s.max != 0 && n > s.max) {
			return nil, extErrorf(syscall.EINVAL, t, "%s extension of %d bytes, want %s", s.name, n, sizeRange(s))
		}
		if err := m.decodeExt(d, k, t, p, blk); err != nil {
			return nil, err
		}
		m.Order = append(m.Order, t)
	}
	if len(m.Order) == 0 {
		m.Order = nil // as without an Arena
	}
	return m, nil
}

func sizeRange(s extSpec) string {
	switch {
	case s.max == s.min:
		return itoa(s.min)
	case s.max == 0:
		return "at least " + itoa(s.min)
	}
	return itoa(s.min) + " to " + itoa(s.max)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return append([]byte(nil), b...)
}

// decodeExt parses extension p (header included; its length already
// checked against the table) into m, with the memory of blk (nil: heap).
func (m *Msg) decodeExt(d Dialect, k kind, t ExtType, p []byte, blk *block) error {
	u16 := func(o int) uint16 { return host.Uint16(p[o:]) }
	u32 := func(o int) uint32 { return host.Uint32(p[o:]) }
	u64 := func(o int) uint64 { return host.Uint64(p[o:]) }
	bad := func(format string, args ...any) error {
		return extErrorf(syscall.EINVAL, t, specs[k].name+": "+format, args...)
	}
	switch k {
	case kSA:
		m.SA = blk.saSlot()
		*m.SA = SA{SPI: binary.BigEndian.Uint32(p[4:]), Replay: p[8], State: SAState(p[9]),
			Auth: p[10], Encrypt: p[11], Flags: u32(12)}
	case kLifetimeCurrent, kLifetimeHard, kLifetimeSoft:
		lt := blk.lifetimeSlot(k)
		*lt = Lifetime{Allocations: u32(4), Bytes: u64(8), AddTime: u64(16), UseTime: u64(24)}
		switch k {
		case kLifetimeCurrent:
			m.LifetimeCurrent = lt
		case kLifetimeHard:
			m.LifetimeHard = lt
		default:
			m.LifetimeSoft = lt
		}
	case kSrc, kDst, kProxy, kNATTOAI, kNATTOAR, kNewSrc, kNewDst:
		size, errno, why := peekSockaddr(d, p[8:])
		if errno != 0 {
			return extErrorf(errno, t, "%s: %s", specs[k].name, why)
		}
		if len(p) != 8+align8(size) {
			return bad("%d bytes for a %d-byte sockaddr", len(p), size)
		}
		sa := parseSockaddr(p[8:], size)
		if int(p[5]) > maxPrefix(sa.ap.Addr()) {
			return bad("prefix length %d", p[5])
		}
		addr := blk.addrSlot(k)
		*addr = Address{Proto: p[4], PrefixLen: p[5], Reserved: u16(6),
			Addr: sa.ap, FlowInfo: sa.flowInfo, ScopeID: sa.scopeID}
		*m.addrField(k) = addr
	case kKeyAuth, kKeyEncrypt:
		bits := u16(4)
		nb := (int(bits) + 7) / 8
		if 8+align8(nb) > len(p) {
			return bad("%d key bits do not fit in %d bytes", bits, len(p))
		}
		key, data := blk.keySlot(k, p[8:8+nb])
		*key = Key{Bits: bits, Reserved: u16(6), Data: data}
		if k == kKeyAuth {
			m.AuthKey = key
		} else {
			m.EncKey = key
		}
	case kIdentitySrc, kIdentityDst:
		id := &Identity{Type: u16(4), Reserved: u16(6), ID: u64(8), Data: clone(p[16:])}
		if d == FreeBSD && id.Type == IdentAddr {
			// key_validate_ext: the sockaddr must fill the extension.
			size, errno, why := peekSockaddr(d, p[16:])
			if errno != 0 {
				return extErrorf(errno, t, "%s: %s", specs[k].name, why)
			}
			if len(p) != 16+align8(size) {
				return bad("%d bytes for a %d-byte sockaddr", len(p), size)
			}
		}
		if k == kIdentitySrc {
			m.SrcIdentity = id
		} else {
			m.DstIdentity = id
		}
	case kSensitivity:
		sl, il := int(p[9])*8, int(p[11])*8
		if len(p) != 16+sl+il {
			return bad("%d bytes for %d+%d bitmap bytes", len(p), sl, il)
		}
		m.Sensitivity = &Sensitivity{DPD: u32(4), SensLevel: p[8], IntegLevel: p[10], Reserved: u32(12),
			SensBitmap: clone(p[16 : 16+sl]), IntegBitmap: clone(p[16+sl:])}
	case kProposal:
		if (len(p)-8)%combLen != 0 {
			return bad("%d bytes is not a whole number of sadb_comb", len(p))
		}
		pr := &Proposal{Replay: p[4], Reserved: [3]byte(p[5:8]), Combs: make([]Comb, 0, (len(p)-8)/combLen)}
		for o := 8; o < len(p); o += combLen {
			c := p[o:]
			pr.Combs = append(pr.Combs, Comb{
				Auth: c[0], Encrypt: c[1], Flags: host.Uint16(c[2:]),
				AuthMinBits: host.Uint16(c[4:]), AuthMaxBits: host.Uint16(c[6:]),
				EncryptMinBits: host.Uint16(c[8:]), EncryptMaxBits: host.Uint16(c[10:]),
				Reserved: host.Uint32(c[12:]), SoftAllocations: host.Uint32(c[16:]), HardAllocations: host.Uint32(c[20:]),
				SoftBytes: host.Uint64(c[24:]), HardBytes: host.Uint64(c[32:]),
				SoftAddTime: host.Uint64(c[40:]), HardAddTime: host.Uint64(c[48:]),
				SoftUseTime: host.Uint64(c[56:]), HardUseTime: host.Uint64(c[64:]),
			})
		}
		m.Proposal = pr
	case kSupportedAuth, kSupportedEncrypt:
		s := &Supported{Reserved: u32(4), Algs: make([]Alg, 0, (len(p)-8)/8)}
		for o := 8; o < len(p); o += 8 {
			a := p[o:]
			s.Algs = append(s.Algs, Alg{ID: a[0], IVLen: a[1], MinBits: host.Uint16(a[2:]),
				MaxBits: host.Uint16(a[4:]), Reserved: host.Uint16(a[6:])})
		}
		if k == kSupportedAuth {
			m.SupportedAuth = s
		} else {
			m.SupportedEncrypt = s
		}
	case kSPIRange:
		m.SPIRange = blk.spiRangeSlot()
		*m.SPIRange = SPIRange{Min: u32(4), Max: u32(8), Reserved: u32(12)}
	case kKMPrivate:
		m.KMPrivate = &KMPrivate{Reserved: u32(4), Data: clone(p[8:])}
	case kPolicy:
		pol := &Policy{Type: u16(4), Dir: p[6], Scope: p[7], ID: u32(8), Priority: u32(12)}
		reqs, err := decodeRequests(d, t, p[16:])
		if err != nil {
			return err
		}
		pol.Requests = reqs
		m.Policy = pol
	case kSA2:
		m.SA2 = blk.sa2Slot()
		*m.SA2 = SA2{Mode: p[4], Reserved1: p[5], Reserved2: u16(6), Sequence: u32(8), ReqID: u32(12)}
	case kNATTType:
		m.NATTType = blk.nattTypeSlot()
		*m.NATTType = NATTType{Type: p[4], Reserved: [3]byte(p[5:8])}
	case kNATTSport, kNATTDport:
		np := blk.nattPortSlot(k)
		*np = NATTPort{Port: binary.BigEndian.Uint16(p[4:]), Reserved: u16(6)}
		if k == kNATTSport {
			m.NATTSport = np
		} else {
			m.NATTDport = np
		}
	case kNATTFrag:
		m.NATTFrag = &NATTFrag{FragLen: u16(4), Reserved: u16(6)}
	case kSAReplay:
		m.SAReplay = &SAReplay{Replay: u32(4)}
	case kSecCtx:
		cl := int(u16(6))
		if cl > maxSecCtx || len(p) != align8(8+cl) {
			return bad("%d context bytes in %d bytes", cl, len(p))
		}
		m.SecCtx = &SecCtx{Alg: p[4], DOI: p[5], Context: clone(p[8 : 8+cl])}
	case kKMAddress:
		local, remote, err := decodePair(d, t, p[8:])
		if err != nil {
			return err
		}
		m.KMAddress = &KMAddress{Reserved: u32(4), Local: local, Remote: remote}
	case kFilter:
		f := &Filter{SrcPrefixLen: p[38], DstPrefixLen: p[39]}
		switch host.Uint16(p[36:]) {
		case LinuxAFInet:
			f.Src, f.Dst = netip.AddrFrom4([4]byte(p[4:8])), netip.AddrFrom4([4]byte(p[20:24]))
		case LinuxAFInet6:
			f.Src, f.Dst = netip.AddrFrom16([16]byte(p[4:20])), netip.AddrFrom16([16]byte(p[20:36]))
		default:
			return bad("unsupported family %d", host.Uint16(p[36:]))
		}
		if int(f.SrcPrefixLen) > maxPrefix(f.Src) || int(f.DstPrefixLen) > maxPrefix(f.Dst) {
			return bad("prefix lengths %d/%d", f.SrcPrefixLen, f.DstPrefixLen)
		}
		m.Filter = f
	}
	return nil
}

const (
	combLen   = 72   // sizeof(struct sadb_comb)
	maxSecCtx = 4096 // Linux: sadb_x_ctx_len <= PAGE_SIZE
)

// reqHdrLen is sizeof(struct sadb_x_ipsecrequest) in dialect d.
func reqHdrLen(d Dialect) int {
	if d == Linux {
		return 16
	}
	return 8
}

// decodeRequests parses the ipsecrequests that follow sadb_x_policy.
// Each one's length (in bytes, a multiple of 8) covers its header and an
// optional pair of sockaddrs of one family.
func decodeRequests(d Dialect, t ExtType, b []byte) ([]IPsecRequest, error) {
	var reqs []IPsecRequest
	hl := reqHdrLen(d)
	for len(b) > 0 {
		if len(b) < hl {
			return nil, extErrorf(syscall.EINVAL, t, "X_POLICY: %d stray bytes after the requests", len(b))
		}
		n := int(host.Uint16(b))
		if n < hl || n > len(b) || n%8 != 0 {
			return nil, extErrorf(syscall.EINVAL, t, "X_POLICY: ipsecrequest length %d (%d bytes left)", n, len(b))
		}
		r := IPsecRequest{Proto: host.Uint16(b[2:]), Mode: b[4], Level: b[5]}
		if d == Linux {
			r.ReqID = host.Uint32(b[8:])
		} else {
			r.ReqID = uint32(host.Uint16(b[6:]))
		}
		if n > hl {
			src, dst, err := decodePair(d, t, b[hl:n])
			if err != nil {
				return nil, err
			}
			r.Src, r.Dst = src, dst
		}
		reqs = append(reqs, r)
		b = b[n:]
	}
	return reqs, nil
}

// decodePair parses two sockaddrs of one family filling b up to 8-byte
// alignment (ipsecrequest tunnel endpoints, kmaddress).
func decodePair(d Dialect, t ExtType, b []byte) (netip.AddrPort, netip.AddrPort, error) {
	var out [2]netip.AddrPort
	rest := b
	size := 0
	for i := range out {
		n, errno, why := peekSockaddr(d, rest)
		if errno != 0 {
			return out[0], out[1], extErrorf(errno, t, "address pair: %s", why)
		}
		if i == 1 && n != size {
			return out[0], out[1], extErrorf(syscall.EINVAL, t, "address pair of mixed families")
		}
		size = n
		out[i] = parseSockaddr(rest, n).ap
		rest = rest[n:]
	}
	if len(b) != align8(2*size) {
		return out[0], out[1], extErrorf(syscall.EINVAL, t, "address pair in %d bytes, want %d", len(b), align8(2*size))
	}
	return out[0], out[1], nil
}

// DetectDialect decides the dialect of message b from the first sockaddr
// in it: the first address extension (SRC, DST, PROXY, NAT_T_OA) or ipsecrequest
// carrying addresses. A FreeBSD sockaddr starts with
// sa_len (16 or 28) and family (2 or 28); a Linux one with a 16-bit family
// (2 or 10) whose high byte is 0 on the little-endian hosts fastipsec
// supports. ok is false when b holds no such sockaddr or it fits neither
// pattern; d is then DefaultDialect. DetectDialect does not validate b.
func DetectDialect(b []byte) (d Dialect, ok bool) {
	for off := HeaderLen; off+8 <= len(b); {
		n := int(host.Uint16(b[off:])) * 8
		t := ExtType(host.Uint16(b[off+2:]))
		if n == 0 || off+n > len(b) {
			break
		}
		p := b[off : off+n]
		off += n
		switch t {
		case ExtAddressSrc, ExtAddressDst, ExtAddressProxy, ExtNATTOAI:
			if d, ok := sniff(p[8:]); ok {
				return d, true
			}
		case ExtPolicy:
			// Request headers differ in size: walk the requests with each
			// dialect's layout and sniff the first address pair.
			for _, cand := range [...]Dialect{FreeBSD, Linux} {
				hl := reqHdrLen(cand)
				for r := p[min(len(p), 16):]; len(r) >= hl; {
					n := int(host.Uint16(r))
					if n < hl || n > len(r) {
						break
					}
					if n > hl {
						if d, ok := sniff(r[hl:n]); ok && d == cand {
							return d, true
						}
						break
					}
					r = r[n:]
				}
			}
		}
	}
	return DefaultDialect, false
}

// sniff classifies one sockaddr by its first two bytes.
func sniff(b []byte) (Dialect, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch {
	case (b[0] == sinLen && b[1] == FreeBSDAFInet) || (b[0] == sin6Len && b[1] == FreeBSDAFInet6):
		return FreeBSD, true
	case host.Uint16(b) == LinuxAFInet || host.Uint16(b) == LinuxAFInet6:
		return Linux, true
	}
	return 0, false
}
