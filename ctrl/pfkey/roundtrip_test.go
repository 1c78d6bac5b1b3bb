package pfkey

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// randMsg builds a random message that dialect d can represent, with
// every field random within the encoder's rules.
func randMsg(r *rand.Rand, d Dialect) *Msg {
	u8 := func() uint8 { return uint8(r.UintN(256)) }
	u16 := func() uint16 { return uint16(r.UintN(1 << 16)) }
	u32 := r.Uint32
	u64 := r.Uint64
	coin := func() bool { return r.IntN(2) == 0 }
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = u8()
		}
		return b
	}
	addr := func(v6 bool) netip.Addr {
		if v6 {
			return netip.AddrFrom16([16]byte(bytesN(16)))
		}
		return netip.AddrFrom4([4]byte(bytesN(4)))
	}
	ap := func(v6 bool) netip.AddrPort { return netip.AddrPortFrom(addr(v6), u16()) }
	address := func() *Address {
		v6 := coin()
		a := &Address{Proto: u8(), Reserved: u16(), Addr: ap(v6)}
		a.PrefixLen = uint8(r.IntN(maxPrefix(a.Addr.Addr()) + 1))
		if v6 {
			a.FlowInfo, a.ScopeID = u32(), u32()
		}
		return a
	}
	key := func() *Key {
		bits := uint16(r.IntN(600))
		return &Key{Bits: bits, Reserved: u16(), Data: bytesN((int(bits) + 7) / 8)}
	}
	lifetime := func() *Lifetime { return &Lifetime{u32(), u64(), u64(), u64()} }
	ident := func() *Identity {
		return &Identity{Type: uint16(r.IntN(4)), Reserved: u16(), ID: u64(), Data: bytesN(8 * r.IntN(4))}
	}
	supported := func() *Supported {
		s := &Supported{Reserved: u32()}
		for range r.IntN(5) {
			s.Algs = append(s.Algs, Alg{u8(), u8(), u16(), u16(), u16()})
		}
		return s
	}
	m := &Msg{Header: Header{Version: Version, Type: MsgType(1 + r.IntN(int(MaxMsgType(d)))),
		Errno: 0, SAType: SAType(u8()), Seq: u32(), PID: u32()}}
	if d == FreeBSD {
		m.Reserved = u16()
	}
	for k := kSA; k < numKinds; k++ {
		if !k.in(d) || r.IntN(3) != 0 {
			continue
		}
		switch k {
		case kSA:
			m.SA = &SA{u32(), u8(), SAState(u8()), u8(), u8(), u32()}
		case kLifetimeCurrent:
			m.LifetimeCurrent = lifetime()
		case kLifetimeHard:
			m.LifetimeHard = lifetime()
		case kLifetimeSoft:
			m.LifetimeSoft = lifetime()
		case kSrc, kDst, kProxy, kNATTOAI, kNATTOAR, kNewSrc, kNewDst:
			*m.addrField(k) = address()
		case kKeyAuth:
			m.AuthKey = key()
		case kKeyEncrypt:
			m.EncKey = key()
		case kIdentitySrc:
			m.SrcIdentity = ident()
		case kIdentityDst:
			m.DstIdentity = ident()
		case kSensitivity:
			m.Sensitivity = &Sensitivity{u32(), u8(), u8(), u32(), bytesN(8 * r.IntN(3)), bytesN(8 * r.IntN(3))}
		case kProposal:
			p := &Proposal{Replay: u8(), Reserved: [3]byte(bytesN(3))}
			for range r.IntN(3) {
				p.Combs = append(p.Combs, Comb{u8(), u8(), u16(), u16(), u16(), u16(), u16(), u32(), u32(), u32(),
					u64(), u64(), u64(), u64(), u64(), u64()})
			}
			m.Proposal = p
		case kSupportedAuth:
			m.SupportedAuth = supported()
		case kSupportedEncrypt:
			m.SupportedEncrypt = supported()
		case kSPIRange:
			m.SPIRange = &SPIRange{u32(), u32(), u32()}
		case kKMPrivate:
			m.KMPrivate = &KMPrivate{Reserved: u32(), Data: bytesN(8 * r.IntN(3))}
		case kPolicy:
			p := &Policy{Type: u16(), Dir: u8(), Scope: u8(), ID: u32(), Priority: u32()}
			for range r.IntN(4) {
				q := IPsecRequest{Proto: u16(), Mode: u8(), Level: u8(), ReqID: u32()}
				if d == FreeBSD {
					q.ReqID &= FreeBSDMaxReqID
				}
				if coin() {
					v6 := coin()
					q.Src, q.Dst = ap(v6), ap(v6)
				}
				p.Requests = append(p.Requests, q)
			}
			m.Policy = p
		case kSA2:
			m.SA2 = &SA2{u8(), u8(), u16(), u32(), u32()}
		case kNATTType:
			m.NATTType = &NATTType{u8(), [3]byte(bytesN(3))}
		case kNATTSport:
			m.NATTSport = &NATTPort{u16(), u16()}
		case kNATTDport:
			m.NATTDport = &NATTPort{u16(), u16()}
		case kNATTFrag:
			m.NATTFrag = &NATTFrag{u16(), u16()}
		case kSAReplay:
			m.SAReplay = &SAReplay{u32()}
		case kSecCtx:
			m.SecCtx = &SecCtx{u8(), u8(), bytesN(r.IntN(40))}
		case kKMAddress:
			v6 := coin()
			m.KMAddress = &KMAddress{Reserved: u32(), Local: ap(v6), Remote: ap(v6)}
		case kFilter:
			v6 := coin()
			f := &Filter{Src: addr(v6), Dst: addr(v6)}
			f.SrcPrefixLen = uint8(r.IntN(maxPrefix(f.Src) + 1))
			f.DstPrefixLen = uint8(r.IntN(maxPrefix(f.Dst) + 1))
			m.Filter = f
		}
	}
	if d == Linux && coin() {
		m.Unknown = []RawExt{{Type: ExtType(27 + r.IntN(100)), Data: bytesN(4 + 8*r.IntN(3))}}
	}
	return m
}

// TestRandomRoundTrip: Decode(Encode(m)) == m for random valid messages,
// and Encode of the result gives the same bytes.
func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		d := Dialect(1 + i%2)
		m := randMsg(r, d)
		b, err := Encode(d, m)
		if err != nil {
			t.Fatalf("#%d Encode(%v): %v\n%s", i, d, err, dump(m))
		}
		got, err := Decode(d, b)
		if err != nil {
			t.Fatalf("#%d Decode(%v): %v\n%s\n%x", i, d, err, dump(m), b)
		}
		m.Len = uint16(len(b) / 8)
		if got.Order == nil {
			got.Order = []ExtType{}
		}
		m.Order = got.Order // Encode chose ascending order
		normalize(m)
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("#%d %v mismatch\n got %s\nwant %s", i, d, dump(got), dump(m))
		}
		b2, err := Encode(d, got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("#%d re-encode differs: %v", i, err)
		}
	}
}

// normalize makes empty slices what Decode produces.
func normalize(m *Msg) {
	if m.Sensitivity != nil {
		m.Sensitivity.SensBitmap = nonNil(m.Sensitivity.SensBitmap)
		m.Sensitivity.IntegBitmap = nonNil(m.Sensitivity.IntegBitmap)
	}
	if m.Proposal != nil && m.Proposal.Combs == nil {
		m.Proposal.Combs = []Comb{}
	}
	for _, s := range []*Supported{m.SupportedAuth, m.SupportedEncrypt} {
		if s != nil && s.Algs == nil {
			s.Algs = []Alg{}
		}
	}
	for _, k := range []*Key{m.AuthKey, m.EncKey} {
		if k != nil {
			k.Data = nonNil(k.Data)
		}
	}
	for _, id := range []*Identity{m.SrcIdentity, m.DstIdentity} {
		if id != nil {
			id.Data = nonNil(id.Data)
		}
	}
	if m.KMPrivate != nil {
		m.KMPrivate.Data = nonNil(m.KMPrivate.Data)
	}
	if m.SecCtx != nil {
		m.SecCtx.Context = nonNil(m.SecCtx.Context)
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
