package main

import (
	"fmt"
	"net/netip"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// request builds the PF_KEY message FreeBSD's setkey sends for c, with the
// extensions in the order its parse.y lays them out. The caller sets PID.
func request(d pfkey.Dialect, c setkey.Command) (*pfkey.Msg, error) {
	m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version}}
	switch c.Op {
	case setkey.OpAdd:
		return m, addRequest(d, m, c.SA)
	case setkey.OpGet, setkey.OpDelete, setkey.OpDeleteAll:
		return m, addrRequest(m, c)
	case setkey.OpFlush, setkey.OpDump:
		m.Type = pfkey.MsgFlush
		if c.Op == setkey.OpDump {
			m.Type = pfkey.MsgDump
		}
		st, err := satype(c.Proto)
		m.SAType = st
		return m, err
	case setkey.OpSPDAdd, setkey.OpSPDUpdate, setkey.OpSPDDelete:
		return m, spdRequest(m, c)
	case setkey.OpSPDFlush:
		m.Type = pfkey.MsgSPDFlush
		return m, nil
	case setkey.OpSPDDump:
		m.Type = pfkey.MsgSPDDump
		return m, nil
	}
	return nil, fmt.Errorf("unknown command %v", c.Op)
}

// satype maps a protocol to sadb_msg_satype (0: all).
func satype(p sad.Proto) (pfkey.SAType, error) {
	switch p {
	case 0:
		return pfkey.SATypeUnspec, nil
	case sad.ProtoESP:
		return pfkey.SATypeESP, nil
	case sad.ProtoAH:
		return pfkey.SATypeAH, nil
	case sad.ProtoIPComp:
		return pfkey.SATypeIPComp, nil
	case setkey.ProtoTCP:
		return pfkey.SATypeTCPSignature, nil
	}
	return 0, fmt.Errorf("protocol %v has no SA type", p)
}

// saFlags is FreeBSD's p_ext: cyclic sequence numbers unless
// "-f nocyclic-seq", the padding option, esp-old/ah-old, -R and -esn.
func saFlags(sa *setkey.SA) uint32 {
	var f uint32
	if !sa.NoCyclicSeq {
		f |= pfkey.SAFlagCycSeq
	}
	switch sa.PadOption {
	case "random-pad":
		f |= pfkey.SAFlagPRand
	case "zero-pad":
		f |= pfkey.SAFlagPZero
	}
	if sa.Old {
		f |= pfkey.SAFlagOld
	}
	if sa.CompRawCPI {
		f |= pfkey.SAFlagRawCPI
	}
	if sa.Config.ESN {
		f |= pfkey.SAFlagESN
	}
	return f
}

// saExts fills the SA, SA2 and (for windows over 255 octets) SA_REPLAY
// extensions: sadb_sa_replay carries -r in octets, as FreeBSD's does.
func saExts(m *pfkey.Msg, sa *setkey.SA) {
	c := &sa.Config
	octets := c.ReplayWindow / 8
	m.SA = &pfkey.SA{SPI: c.SPI, Replay: uint8(min(octets, 255)), Flags: saFlags(sa)}
	m.SA2 = &pfkey.SA2{Mode: uint8(c.Mode), ReqID: c.ReqID}
	if octets > 255 {
		m.SAReplay = &pfkey.SAReplay{Replay: octets << 3}
	}
}

// addresses fills SRC and DST as setkey does for SAs: full prefix, any
// upper-layer protocol, the ports written as addr[port].
func addresses(m *pfkey.Msg, sa *setkey.SA) {
	c := &sa.Config
	m.Src = &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(c.Src.BitLen()),
		Addr: netip.AddrPortFrom(c.Src, sa.SrcPort)}
	m.Dst = &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(c.Dst.BitLen()),
		Addr: netip.AddrPortFrom(c.Dst, sa.DstPort)}
}

func addRequest(d pfkey.Dialect, m *pfkey.Msg, sa *setkey.SA) error {
	c := &sa.Config
	m.Type = pfkey.MsgAdd
	st, err := satype(c.Proto)
	if err != nil {
		return err
	}
	m.SAType = st
	if c.TFCPad != 0 {
		return fmt.Errorf("-tfc has no PF_KEY extension")
	}
	saExts(m, sa)
	switch c.Proto {
	case sad.ProtoIPComp:
		n, ok := pfkey.CompAlgToWire(d, c.Comp)
		if !ok {
			return fmt.Errorf("compression algorithm %d has no PF_KEY number", c.Comp)
		}
		m.SA.Encrypt = n
	case setkey.ProtoTCP:
		m.SA.Auth = pfkey.AAlgTCPMD5
	default:
		if c.Enc != alg.EncInvalid {
			n, ok := pfkey.EncAlgToWire(d, c.Enc)
			if !ok {
				return fmt.Errorf("%v has no PF_KEY number in the %v dialect", c.Enc, d)
			}
			m.SA.Encrypt = n
		}
		if c.Auth != alg.AuthNull && c.Auth != alg.AuthInvalid {
			n, ok := pfkey.AuthAlgToWire(d, c.Auth)
			if !ok {
				return fmt.Errorf("%v has no PF_KEY number in the %v dialect", c.Auth, d)
			}
			m.SA.Auth = n
		}
	}
	m.Order = []pfkey.ExtType{pfkey.ExtKeyEncrypt, pfkey.ExtKeyAuth, pfkey.ExtLifetimeHard,
		pfkey.ExtLifetimeSoft, pfkey.ExtSA, pfkey.ExtSA2, pfkey.ExtSAReplay,
		pfkey.ExtAddressSrc, pfkey.ExtAddressDst}
	if len(c.EncKey) > 0 && c.Proto != sad.ProtoIPComp {
		m.EncKey = &pfkey.Key{Bits: uint16(len(c.EncKey) * 8), Data: append([]byte(nil), c.EncKey...)}
	}
	if len(c.AuthKey) > 0 {
		m.AuthKey = &pfkey.Key{Bits: uint16(len(c.AuthKey) * 8), Data: append([]byte(nil), c.AuthKey...)}
	}
	// key.c takes HARD and SOFT only together: a lone -lh or -ls gets the
	// other as zero (no limit), where FreeBSD's setkey fails with EINVAL.
	if !c.Hard.IsZero() || !c.Soft.IsZero() {
		m.LifetimeHard = &pfkey.Lifetime{Bytes: c.Hard.Bytes, AddTime: uint64(c.Hard.AddTime.Seconds())}
		m.LifetimeSoft = &pfkey.Lifetime{Bytes: c.Soft.Bytes, AddTime: uint64(c.Soft.AddTime.Seconds())}
	}
	addresses(m, sa)
	if c.NATT {
		m.NATTType = &pfkey.NATTType{Type: pfkey.NATTEspInUDP}
		m.NATTSport = &pfkey.NATTPort{Port: c.NATTSport}
		m.NATTDport = &pfkey.NATTPort{Port: c.NATTDport}
		m.Order = append(m.Order, pfkey.ExtNATTType, pfkey.ExtNATTSport, pfkey.ExtNATTDport)
		if c.NATOAi.IsValid() {
			m.NATTOAI = natAddr(c.NATOAi)
			m.Order = append(m.Order, pfkey.ExtNATTOAI)
		}
		if c.NATOAr.IsValid() {
			m.NATTOAR = natAddr(c.NATOAr)
			m.Order = append(m.Order, pfkey.ExtNATTOAR)
		}
		if sa.NATTFragLen != 0 {
			m.NATTFrag = &pfkey.NATTFrag{FragLen: uint16(sa.NATTFragLen)}
			m.Order = append(m.Order, pfkey.ExtNATTFrag)
		}
	}
	return nil
}

func natAddr(a netip.Addr) *pfkey.Address {
	return &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(a.BitLen()), Addr: netip.AddrPortFrom(a, 0)}
}

// addrRequest is get, delete (SA, SA2, addresses) and deleteall (DELETE
// with the addresses only: every SA between them).
func addrRequest(m *pfkey.Msg, c setkey.Command) error {
	sa := c.SA
	m.Type = pfkey.MsgDelete
	if c.Op == setkey.OpGet {
		m.Type = pfkey.MsgGet
	}
	st, err := satype(sa.Config.Proto)
	if err != nil {
		return err
	}
	m.SAType = st
	m.Order = []pfkey.ExtType{pfkey.ExtSA, pfkey.ExtSA2, pfkey.ExtSAReplay, pfkey.ExtAddressSrc, pfkey.ExtAddressDst}
	if c.Op != setkey.OpDeleteAll {
		saExts(m, sa)
	}
	addresses(m, sa)
	return nil
}

// spdRequest is spdadd, spdupdate and spddelete: the policy, then the
// selector's addresses carrying the upper-layer protocol and ports (ICMP
// type and code in the port fields, as setkey puts them).
func spdRequest(m *pfkey.Msg, c setkey.Command) error {
	p := c.Policy
	switch c.Op {
	case setkey.OpSPDAdd:
		m.Type = pfkey.MsgSPDAdd
	case setkey.OpSPDUpdate:
		m.Type = pfkey.MsgSPDUpdate
	default:
		m.Type = pfkey.MsgSPDDelete
	}
	proto := uint8(pfkey.ProtoAny)
	if p.Proto >= 0 {
		proto = uint8(p.Proto)
	}
	sport, dport := p.SrcPort, p.DstPort
	if p.ICMPType >= 0 {
		sport = uint16(p.ICMPType)
	}
	if p.ICMPCode >= 0 {
		dport = uint16(p.ICMPCode)
	}
	pol := &pfkey.Policy{Type: uint16(p.Action), Dir: dirNumber(p.Dir), Scope: pfkey.ScopeGlobal,
		Priority: p.WirePriority()}
	if p.Action == setkey.ActionIPsec {
		for _, r := range p.Requests {
			if r.ReqID > pfkey.FreeBSDMaxReqID {
				return fmt.Errorf("reqid %d does not fit a PF_KEY request", r.ReqID)
			}
			req := pfkey.IPsecRequest{Proto: uint16(r.Proto), Mode: uint8(r.Mode), Level: uint8(r.Level), ReqID: r.ReqID}
			if r.Src.IsValid() && r.Dst.IsValid() {
				req.Src = netip.AddrPortFrom(r.Src, r.SrcPort)
				req.Dst = netip.AddrPortFrom(r.Dst, r.DstPort)
			}
			pol.Requests = append(pol.Requests, req)
		}
	}
	m.Policy = pol
	m.Src = &pfkey.Address{Proto: proto, PrefixLen: uint8(p.Src.Bits()), Addr: netip.AddrPortFrom(p.Src.Addr(), sport)}
	m.Dst = &pfkey.Address{Proto: proto, PrefixLen: uint8(p.Dst.Bits()), Addr: netip.AddrPortFrom(p.Dst.Addr(), dport)}
	m.Order = []pfkey.ExtType{pfkey.ExtPolicy, pfkey.ExtAddressSrc, pfkey.ExtAddressDst}
	return nil
}

func dirNumber(d setkey.Dir) uint8 {
	switch d {
	case setkey.DirIn:
		return pfkey.DirInbound
	case setkey.DirOut:
		return pfkey.DirOutbound
	case setkey.DirFwd:
		return pfkey.DirFwd
	}
	return pfkey.DirAny
}
