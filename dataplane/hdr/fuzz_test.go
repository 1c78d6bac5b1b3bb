package hdr

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// Fuzz targets: IsValid on random bytes and a random n, and when it says
// yes, every accessor, walker and checksum function. None may panic, and
// a few invariants are checked on the way.
//
//	go test -run '^$' -fuzz '^FuzzIPv6Walk$' -fuzztime 5s ./dataplane/hdr/

func FuzzEthernet(f *testing.F) {
	for _, e := range []Ethernet{
		frame(EtherTypeIPv4), frame(EtherTypeVLAN, 0x2064, EtherTypeIPv6),
		frame(EtherTypeQinQ, 200, EtherTypeVLAN, 100, EtherTypeIPv4), frame(EtherTypeVLAN, 1, EtherTypeIPv4)[:17],
		frame(EtherTypeVLAN, 1, EtherTypeVLAN, 2, EtherTypeVLAN, 3, EtherTypeIPv4),
	} {
		f.Add([]byte(e), len(e))
	}
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		e := Ethernet(data)
		etype, off, _, ok := e.PayloadType() // works on any slice
		if ok && (off < EthernetLen || off > len(data) || off > EthernetLen+2*VLANLen) {
			t.Fatalf("PayloadType off %d len %d", off, len(data))
		}
		if ok && off == EthernetLen && etype != e.EtherType() {
			t.Fatal("untagged etype mismatch")
		}
		if !e.IsValid(n) {
			return
		}
		_, _, _ = e.Dst(), e.Src(), e.EtherType()
		_ = IsMulticastMAC(e.Dst())
		if e.Tagged() && len(e) >= EthernetLen+VLANLen {
			v := e.VLAN()
			if v.IsValid(len(v)) {
				_, _, _ = v.TPID(), v.ID(), v.PCP()
			}
		}
		e.SetEtherType(e.EtherType())
	})
}

func FuzzARP(f *testing.F) {
	a := ARP(make([]byte, ARPLen))
	a.Set(ARPRequest, [6]byte{2, 0, 0, 0, 0, 1}, [4]byte{192, 0, 2, 1}, [6]byte{}, [4]byte{192, 0, 2, 2})
	f.Add([]byte(a), ARPLen)
	f.Add([]byte(a[:27]), 28)
	f.Add(append([]byte(a), make([]byte, 18)...), 46)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		a := ARP(data)
		if !a.IsValid(n) {
			return
		}
		op, sha, spa, tha, tpa := a.Op(), a.SHA(), a.SPA(), a.THA(), a.TPA()
		b := ARP(make([]byte, ARPLen))
		b.Set(op, sha, spa, tha, tpa)
		if string(b) != string(a[:ARPLen]) {
			t.Fatalf("Set(getters) = % x, want % x", []byte(b), []byte(a[:ARPLen]))
		}
	})
}

func FuzzIPv4(f *testing.F) {
	for _, tc := range []struct{ b []byte }{
		{v4(20, 20, 20)}, {v4(20, 46, 60)}, {v4(24, 30, 30)}, {v4(60, 60, 60)}, {v4(16, 20, 20)},
		{v4(24, 24, 20)}, {v4(24, 20, 24)}, {v4(20, 41, 40)},
	} {
		f.Add(tc.b, len(tc.b))
	}
	f.Add([]byte(ipWithOptions([]byte{IPv4OptRR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0})), 32)
	f.Add([]byte(ipWithOptions([]byte{1, IPv4OptLSRR, 7, 4, 192, 0, 2, 1})), 28)
	f.Add([]byte(ipWithOptions([]byte{IPv4OptRR, 1, 0, 0})), 24)
	ip, _ := buildUDP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 53, 53, []byte("hello"))
	f.Add([]byte(ip), len(ip))
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		ip := IPv4(data)
		if !ip.IsValid(n) {
			return
		}
		hl, tl := ip.HeaderLen(), ip.TotalLen()
		if hl < IPv4MinLen || hl > tl || tl > n || ip.Version() != 4 {
			t.Fatalf("IsValid accepted hl %d tl %d n %d", hl, tl, n)
		}
		_, _, _, _, _ = ip.TOS(), ip.ID(), ip.FlagsFrag(), ip.DF(), ip.IsFragment()
		_, _, _, _, _ = ip.FragOffset(), ip.TTL(), ip.Protocol(), ip.Src(), ip.Dst()
		if len(ip.Options()) != hl-IPv4MinLen || len(ip.Payload()) != tl-hl {
			t.Fatal("Options/Payload length")
		}
		ip.WalkOptions(func(typ uint8, opt []byte) bool {
			if len(opt) == 0 || opt[0] != typ {
				t.Fatalf("WalkOptions gave % x for %d", opt, typ)
			}
			return true
		})
		valid := ip.ChecksumValid()
		if c := ip.CalcChecksum(); valid != (c == ip.Checksum() || (c == 0 && ip.Checksum() == 0xffff) ||
			(c == 0xffff && ip.Checksum() == 0)) {
			t.Fatalf("ChecksumValid %v, field %#04x, calc %#04x", valid, ip.Checksum(), c)
		}
		ps := ip.PseudoSum(ip.Protocol(), tl-hl)
		pl := ip.Payload()
		switch ip.Protocol() {
		case ProtoUDP:
			if u := UDP(pl); u.IsValid(len(pl)) {
				u.SetChecksum(u.CalcChecksum(PseudoSum4(ip.Src(), ip.Dst(), ProtoUDP, u.Length())))
				if Fold(Sum(u[:u.Length()], PseudoSum4(ip.Src(), ip.Dst(), ProtoUDP, u.Length()))) != 0xffff {
					t.Fatal("UDP checksum does not verify")
				}
			}
		case ProtoICMP:
			if c := ICMP(pl); c.IsValid(len(pl)) {
				c.SetChecksum(c.CalcChecksum(0))
				if !c.ChecksumValid(0) {
					t.Fatal("ICMP checksum does not verify")
				}
			}
		default:
			_ = Checksum(pl, ps)
		}
		if ip.TTL() > 0 {
			ttl := ip.TTL()
			if got := ip.DecTTL(); got != ttl-1 {
				t.Fatalf("DecTTL = %d, want %d", got, ttl-1)
			}
			if ip.ChecksumValid() != valid {
				t.Fatalf("DecTTL changed checksum validity (was %v)", valid)
			}
		}
		ip.UpdateChecksum()
		if !ip.ChecksumValid() {
			t.Fatal("UpdateChecksum")
		}
	})
}

func FuzzIPv6Walk(f *testing.F) {
	for _, ip := range []IPv6{
		build6(ProtoUDP, 8),
		build6(ProtoICMPv6, 8, ext{proto: ProtoHopByHop, len: 8}),
		build6(ProtoUDP, 8, ext{proto: ProtoHopByHop, len: 8}, ext{proto: ProtoRouting, len: 24},
			ext{proto: ProtoFragment}, ext{proto: ProtoDstOpts, len: 16}),
		build6(ProtoTCP, 20, ext{proto: ProtoDstOpts, len: 8}, ext{proto: ProtoRouting, len: 24}),
		build6(ProtoUDP, 8, ext{proto: ProtoHopByHop, len: 8}, ext{proto: ProtoFragment, fragOff: 185<<3 | 1}),
		build6(ProtoUDP, 8, ext{proto: ProtoDstOpts, len: 8}, ext{proto: ProtoHopByHop, len: 8}),
		build6(ProtoESP, 16, ext{proto: ProtoHopByHop, len: 8}),
		build6(ProtoAH, 16, ext{proto: ProtoHopByHop, len: 8}, ext{proto: ProtoRouting, len: 8}),
	} {
		f.Add([]byte(ip), len(ip))
	}
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		ip := IPv6(data)
		if !ip.IsValid(n) {
			return
		}
		_, _, _, _, _ = ip.TrafficClass(), ip.FlowLabel(), ip.PayloadLen(), ip.NextHeader(), ip.HopLimit()
		src, dst := ip.Src(), ip.Dst()
		if src != *ip.SrcRef() || dst != *ip.DstRef() {
			t.Fatal("Src/SrcRef")
		}
		c, ok := ip.Walk(n)
		if !ok {
			return
		}
		if c.Off < IPv6Len || c.Off > n || c.NextOff >= c.Off || ip[c.NextOff] != c.Proto ||
			c.Unfragmentable < IPv6Len || c.Unfragmentable > c.Off || c.InsertNext >= c.Unfragmentable ||
			c.N > maxExtHeaders || (c.Frag != 0 && (c.Frag < IPv6Len || c.Frag+8 > c.Off)) {
			t.Fatalf("Walk invariants broken: %+v n %d", c, n)
		}
		if c.N == 0 && (c.Off != IPv6Len || c.NextOff != 6) {
			t.Fatalf("no ext headers but %+v", c)
		}
		if c.N > 0 {
			Options(ip[IPv6Len:c.Off], func(typ uint8, opt []byte) bool {
				if len(opt) < 2 || opt[0] != typ {
					t.Fatalf("Options gave % x", opt)
				}
				return true
			})
		}
		l4 := ip[c.Off:n]
		ps := ip.PseudoSum(c.Proto, len(l4))
		switch c.Proto {
		case ProtoUDP:
			if u := UDP(l4); u.IsValid(len(l4)) {
				_ = u.CalcChecksum(ps)
			}
		case ProtoICMPv6:
			if m := ICMP(l4); m.IsValid(len(l4)) {
				m.SetChecksum(m.CalcChecksum(ps))
				if !m.ChecksumValid(ps) {
					t.Fatal("ICMPv6 checksum does not verify")
				}
				if d := ND(l4); d.IsValid(len(l4)) {
					_, _ = d.LinkAddr(NDOptSourceLLA)
				}
			}
		case ProtoESP:
			if e := ESP(l4); e.IsValid(len(l4)) {
				_, _ = e.SPI(), e.Seq()
			}
		case ProtoAH:
			if a := AH(l4); a.IsValid(len(l4)) {
				_ = a.ICV()
			}
		}
	})
}

func FuzzUDP(f *testing.F) {
	_, u := buildUDP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 500, 4500, []byte("payload"))
	f.Add([]byte(u), len(u))
	f.Add([]byte(u[:7]), 8)
	f.Add([]byte{0, 1, 0, 2, 0, 7, 0, 0}, 8)
	f.Add([]byte{0, 1, 0, 2, 0, 9, 0, 0}, 8)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		u := UDP(data)
		if !u.IsValid(n) {
			return
		}
		_, _, _ = u.SrcPort(), u.DstPort(), u.Checksum()
		if u.Length() < UDPLen || u.Length() > n {
			t.Fatalf("Length %d n %d", u.Length(), n)
		}
		ps := PseudoSum4([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, ProtoUDP, u.Length())
		c := u.CalcChecksum(ps)
		if c == 0 {
			t.Fatal("UDP checksum 0 must be sent as 0xffff")
		}
		u.SetChecksum(c)
		if Fold(Sum(u[:u.Length()], ps)) != 0xffff {
			t.Fatal("UDP checksum does not verify")
		}
	})
}

func FuzzTCP(f *testing.F) {
	seg := make([]byte, 32)
	seg[12] = 8 << 4
	f.Add(seg, 32)
	f.Add(seg, 31)
	f.Add(seg[:20], 20)
	f.Add(append([]byte{}, make([]byte, 12)...), 12)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		tc := TCP(data)
		if !tc.IsValid(n) {
			return
		}
		if hl := tc.HeaderLen(); hl < TCPMinLen || hl > n {
			t.Fatalf("HeaderLen %d n %d", hl, n)
		}
		_, _, _, _ = tc.SrcPort(), tc.DstPort(), tc.Flags(), tc.Checksum()
		ps := PseudoSum4([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, ProtoTCP, n)
		tc.SetChecksum(0)
		tc.SetChecksum(Checksum(tc[:n], ps))
		if Fold(Sum(tc[:n], ps)) != 0xffff {
			t.Fatal("TCP checksum does not verify")
		}
	})
}

func FuzzICMP(f *testing.F) {
	f.Add([]byte{8, 0, 0, 0, 0, 1, 0, 1, 'a', 'b', 'c'}, 11)
	f.Add([]byte{3, 4, 0, 0, 0, 0, 5, 0x78}, 8)
	f.Add([]byte{8, 0, 0}, 8)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		// The checksum primitives against the naive loop, on anything.
		init := uint64(n) * 0x9e3779b97f4a7c15
		if Fold(Sum(data, init)) != naiveSum(data, init) {
			t.Fatalf("Sum(% x, %#x) disagrees with naive", data, init)
		}
		c := ICMP(data)
		if !c.IsValid(n) {
			return
		}
		_, _, _, _, _, _ = c.Type(), c.Code(), c.Checksum(), c.Rest(), c.ID(), c.Seq()
		for _, ps := range []uint64{0, PseudoSum6(&[16]byte{15: 1}, &[16]byte{15: 2}, ProtoICMPv6, len(c))} {
			c.SetChecksum(c.CalcChecksum(ps))
			if !c.ChecksumValid(ps) {
				t.Fatal("ICMP checksum does not verify")
			}
			old := binary.BigEndian.Uint16(c[0:])
			c.SetTypeCode(c.Type()^0x08, c.Code())
			c.SetChecksum(UpdateChecksum(c.Checksum(), old, binary.BigEndian.Uint16(c[0:])))
			if !c.ChecksumValid(ps) {
				t.Fatal("ICMP checksum does not verify after an incremental update")
			}
		}
	})
}

func FuzzND(f *testing.F) {
	target := netip.MustParseAddr("2001:db8::1").As16()
	for _, nd := range []ND{
		buildNS(target),
		buildNS(target, NDOptSourceLLA, 1, 2, 0, 0x5e, 0x10, 0x20, 0x30),
		buildNS(target, NDOptSourceLLA, 0, 1, 2, 3, 4, 5, 6),
		buildNS(target, NDOptSourceLLA, 2, 1, 2, 3, 4, 5, 6),
		buildNS(target, 14, 1, 1, 2, 3, 4, 5, 6, NDOptTargetLLA, 1, 1, 2, 3, 4, 5, 6),
	} {
		f.Add([]byte(nd), len(nd))
	}
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		d := ND(data)
		if !d.IsValid(n) {
			return
		}
		tgt := d.Target()
		_ = d.Flags()
		_, _ = d.LinkAddr(NDOptSourceLLA)
		_, _ = d.LinkAddr(NDOptTargetLLA)
		_, _ = d.LinkAddr(0)
		sn := SolicitedNode(&tgt)
		if m := MulticastMAC6(&sn); m[0] != 0x33 || m[1] != 0x33 || m[2] != 0xff || m[5] != tgt[15] {
			t.Fatalf("MulticastMAC6 % x", m)
		}
		ps := PseudoSum6(&tgt, &sn, ProtoICMPv6, n)
		c := ICMP(d[:n])
		c.SetChecksum(c.CalcChecksum(ps))
		if !c.ChecksumValid(ps) {
			t.Fatal("ND checksum does not verify")
		}
	})
}

func FuzzESP(f *testing.F) {
	f.Add([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1}, 8)
	f.Add([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0}, 8)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		e := ESP(data)
		if !e.IsValid(n) {
			return
		}
		spi, seq := e.SPI(), e.Seq()
		e.Set(spi, seq)
		if e.SPI() != spi || e.Seq() != seq {
			t.Fatal("Set/getters")
		}
	})
}

func FuzzAH(f *testing.F) {
	a := AH(make([]byte, 24))
	a.Set(ProtoTCP, 24, 0x100, 7)
	f.Add([]byte(a), 24)
	f.Add([]byte(a), 20)
	f.Add([]byte{ProtoUDP, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 12)
	f.Add([]byte{ProtoUDP, 255, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 12)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		a := AH(data)
		if !a.IsValid(n) {
			return
		}
		l := a.Len()
		if l < AHMinLen || l > n {
			t.Fatalf("Len %d n %d", l, n)
		}
		next, spi, seq := a.NextHeader(), a.SPI(), a.Seq()
		if len(a.ICV()) != l-AHMinLen {
			t.Fatal("ICV length")
		}
		a.Set(next, l, spi, seq)
		if a.Len() != l || a.NextHeader() != next || a.SPI() != spi || a.Seq() != seq {
			t.Fatal("Set/getters")
		}
	})
}

func FuzzIPComp(f *testing.F) {
	f.Add([]byte{ProtoIPIP, 0, 0, 2}, 4)
	f.Add([]byte{ProtoIPIP, 0, 0}, 4)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		c := IPComp(data)
		if !c.IsValid(n) {
			return
		}
		next, cpi := c.NextHeader(), c.CPI()
		_ = c.Flags()
		c.Set(next, cpi)
		if c.NextHeader() != next || c.CPI() != cpi || c.Flags() != 0 {
			t.Fatal("Set/getters")
		}
	})
}
