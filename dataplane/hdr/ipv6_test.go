package hdr

import (
	"encoding/binary"
	"testing"
)

func TestIPv6IsValid(t *testing.T) {
	ok := build6(ProtoUDP, 8)
	tests := []struct {
		name string
		b    []byte
		n    int
		want bool
	}{
		{"valid", ok, len(ok), true},
		{"padding after payload", append(append([]byte{}, ok...), 0, 0, 0, 0), len(ok) + 4, true},
		{"empty", nil, 0, false},
		{"short", ok[:39], 39, false},
		{"n beyond slice", ok, len(ok) + 1, false},
		{"payload past n", ok, len(ok) - 1, false},
		{"version 4", append([]byte{0x45}, ok[1:]...), len(ok), false},
		{"no payload", build6(ProtoNoNext, 0), IPv6Len, true},
	}
	for _, tc := range tests {
		if got := IPv6(tc.b).IsValid(tc.n); got != tc.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestIPv6Accessors(t *testing.T) {
	ip := IPv6(make([]byte, IPv6Len))
	ip.SetVersionTCFlow(0xb8, 0xabcde)
	ip.SetPayloadLen(1234)
	ip.SetNextHeader(ProtoESP)
	ip.SetHopLimit(7)
	src := [16]byte{0xfe, 0x80, 15: 1}
	dst := [16]byte{0x20, 0x01, 0x0d, 0xb8, 14: 0xab, 15: 0xcd}
	ip.SetSrc(&src)
	ip.SetDst(&dst)
	if ip[0]>>4 != 6 || ip.TrafficClass() != 0xb8 || ip.FlowLabel() != 0xabcde || ip.PayloadLen() != 1234 ||
		ip.NextHeader() != ProtoESP || ip.HopLimit() != 7 || ip.Src() != src || ip.Dst() != dst ||
		*ip.SrcRef() != src || *ip.DstRef() != dst {
		t.Fatalf("accessors: % x", []byte(ip))
	}
	ip.SetTrafficClass(0x03)
	if ip.TrafficClass() != 0x03 || ip.FlowLabel() != 0xabcde || ip[0]>>4 != 6 {
		t.Fatalf("SetTrafficClass: tc %#x flow %#x", ip.TrafficClass(), ip.FlowLabel())
	}
	ip.SetVersionTCFlow(0xff, 0xffffffff) // flow label is masked to 20 bits
	if ip[0]>>4 != 6 || ip.TrafficClass() != 0xff || ip.FlowLabel() != 0xfffff {
		t.Fatalf("masking: % x", []byte(ip[:4]))
	}
	// SrcRef aliases the packet.
	ip.SrcRef()[15] = 9
	if ip[23] != 9 {
		t.Fatal("SrcRef does not alias the packet")
	}
}

func TestIsExtension(t *testing.T) {
	ext := map[uint8]bool{ProtoHopByHop: true, ProtoRouting: true, ProtoFragment: true, ProtoDstOpts: true,
		ProtoMobility: true, ProtoHIP: true, ProtoShim6: true, ProtoReserved1: true, ProtoReserved2: true}
	for p := 0; p < 256; p++ {
		if got := IsExtension(uint8(p)); got != ext[uint8(p)] {
			t.Errorf("IsExtension(%d) = %v", p, got)
		}
	}
}

func TestIPv6Walk(t *testing.T) {
	const (
		hbh  = ProtoHopByHop
		rt   = ProtoRouting
		frag = ProtoFragment
		dst  = ProtoDstOpts
	)
	many := func(k int) []ext {
		e := make([]ext, k)
		for i := range e {
			e[i] = ext{proto: dst, len: 8}
		}
		return e
	}
	tests := []struct {
		name  string
		ip    IPv6
		n     int // 0: len(ip)
		ok    bool
		want  Chain
		check bool // compare want (when ok)
	}{
		{name: "none", ip: build6(ProtoUDP, 8), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 40, NextOff: 6, Unfragmentable: 40, InsertNext: 6}},
		{name: "no next header", ip: build6(ProtoNoNext, 0), ok: true,
			want: Chain{Proto: ProtoNoNext, Off: 40, NextOff: 6, Unfragmentable: 40, InsertNext: 6}},
		{name: "hop-by-hop", ip: build6(ProtoICMPv6, 8, ext{proto: hbh, len: 8}), ok: true,
			want: Chain{Proto: ProtoICMPv6, Off: 48, NextOff: 40, Unfragmentable: 48, InsertNext: 40, N: 1}},
		{name: "HBH+routing+fragment+dstopts+UDP",
			ip: build6(ProtoUDP, 8, ext{proto: hbh, len: 8}, ext{proto: rt, len: 24}, ext{proto: frag},
				ext{proto: dst, len: 16}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 96, NextOff: 80, Frag: 72, Unfragmentable: 80, InsertNext: 72, N: 4}},
		{name: "dstopts before routing",
			ip: build6(ProtoTCP, 20, ext{proto: dst, len: 8}, ext{proto: rt, len: 24}), ok: true,
			want: Chain{Proto: ProtoTCP, Off: 72, NextOff: 48, Unfragmentable: 72, InsertNext: 48, N: 2}},
		{name: "HBH+dstopts+routing+fragment+dstopts (RFC 8200 §4.1 order)",
			ip: build6(ProtoUDP, 8, ext{proto: hbh, len: 8}, ext{proto: dst, len: 8}, ext{proto: rt, len: 24},
				ext{proto: frag}, ext{proto: dst, len: 8}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 96, NextOff: 88, Frag: 80, Unfragmentable: 88, InsertNext: 80, N: 5}},
		{name: "dstopts only (after ESP's place)",
			ip: build6(ProtoUDP, 8, ext{proto: dst, len: 16}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 56, NextOff: 40, Unfragmentable: 40, InsertNext: 6, N: 1}},
		{name: "dstopts before routing, routing truncated", ip: func() IPv6 {
			ip := build6(ProtoTCP, 0, ext{proto: dst, len: 8})
			ip[40] = rt
			return ip
		}(), ok: false},
		{name: "first fragment continues",
			ip: build6(ProtoUDP, 8, ext{proto: frag, fragOff: 1}, ext{proto: dst, len: 8}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 56, NextOff: 48, Frag: 40, Unfragmentable: 48, InsertNext: 40, N: 2}},
		{name: "non-first fragment stops",
			ip: build6(ProtoUDP, 8, ext{proto: hbh, len: 8}, ext{proto: frag, fragOff: 185<<3 | 1}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 56, NextOff: 48, Frag: 48, Unfragmentable: 56, InsertNext: 48, N: 2}},
		{name: "non-first fragment stops before a bogus header", ip: func() IPv6 {
			// The fragment says dstopts follow, but the data are garbage.
			ip := build6(dst, 8, ext{proto: frag, fragOff: 8 << 3})
			ip[49] = 200 // would run past the end
			return ip
		}(), ok: true,
			want: Chain{Proto: dst, Off: 48, NextOff: 40, Frag: 40, Unfragmentable: 48, InsertNext: 40, N: 1}},
		{name: "HBH not first", ip: build6(ProtoUDP, 8, ext{proto: dst, len: 8}, ext{proto: hbh, len: 8})},
		{name: "HBH twice", ip: build6(ProtoUDP, 8, ext{proto: hbh, len: 8}, ext{proto: hbh, len: 8})},
		{name: "chain past n", ip: build6(ProtoUDP, 8, ext{proto: hbh, len: 16}), n: 40 + 8},
		{name: "header length past n", ip: func() IPv6 {
			ip := build6(ProtoUDP, 0, ext{proto: hbh, len: 8})
			ip[41] = 1 // 16 bytes, only 8 present
			return ip
		}()},
		{name: "fewer than 8 bytes left", ip: build6(ProtoUDP, 0, ext{proto: dst, len: 8}), n: 44},
		{name: "fragment truncated", ip: build6(ProtoUDP, 0, ext{proto: frag}), n: 47},
		{name: "16 headers", ip: build6(ProtoUDP, 8, many(16)...), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 40 + 16*8, NextOff: 40 + 15*8, Unfragmentable: 40, InsertNext: 6, N: 16}},
		{name: "17 headers", ip: build6(ProtoUDP, 8, many(17)...)},
		{name: "ESP ends the chain", ip: build6(ProtoESP, 16, ext{proto: hbh, len: 8}), ok: true,
			want: Chain{Proto: ProtoESP, Off: 48, NextOff: 40, Unfragmentable: 48, InsertNext: 40, N: 1}},
		{name: "AH ends the chain", ip: build6(ProtoAH, 16, ext{proto: hbh, len: 8}, ext{proto: rt, len: 8}), ok: true,
			want: Chain{Proto: ProtoAH, Off: 56, NextOff: 48, Unfragmentable: 56, InsertNext: 48, N: 2}},
		{name: "ESP after dstopts+routing", ip: build6(ProtoESP, 16, ext{proto: dst, len: 8}, ext{proto: rt, len: 8}), ok: true,
			want: Chain{Proto: ProtoESP, Off: 56, NextOff: 48, Unfragmentable: 56, InsertNext: 48, N: 2}},
		{name: "experimental 253", ip: build6(ProtoUDP, 8, ext{proto: ProtoReserved1, len: 8}), ok: true,
			want: Chain{Proto: ProtoUDP, Off: 48, NextOff: 40, Unfragmentable: 40, InsertNext: 6, N: 1}},
	}
	for _, tc := range tests {
		n := tc.n
		if n == 0 {
			n = len(tc.ip)
		}
		c, ok := tc.ip.Walk(n)
		if ok != tc.ok {
			t.Errorf("%s: Walk ok = %v, want %v (%+v)", tc.name, ok, tc.ok, c)
			continue
		}
		if ok && c != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, c, tc.want)
		}
		if ok {
			// Invariants: the header at NextOff names Proto, InsertNext
			// names what starts at Unfragmentable.
			if tc.ip[c.NextOff] != c.Proto {
				t.Errorf("%s: ip[NextOff=%d] = %d, Proto %d", tc.name, c.NextOff, tc.ip[c.NextOff], c.Proto)
			}
			if c.Unfragmentable < IPv6Len || c.Unfragmentable > c.Off || c.Off > n {
				t.Errorf("%s: Unfragmentable %d Off %d n %d", tc.name, c.Unfragmentable, c.Off, n)
			}
		}
	}
}

// A routing header right after a destination options header is what makes
// the options unfragmentable: check hasRoutingAfter's use with the routing
// header ending exactly at n.
func TestIPv6WalkExactEnd(t *testing.T) {
	ip := build6(ProtoNoNext, 0, ext{proto: ProtoDstOpts, len: 8}, ext{proto: ProtoRouting, len: 8})
	c, ok := ip.Walk(len(ip))
	if !ok || c.Off != len(ip) || c.Unfragmentable != 56 || c.InsertNext != 48 || c.Proto != ProtoNoNext {
		t.Fatalf("Walk = %+v %v", c, ok)
	}
}

func TestIPv6Options(t *testing.T) {
	type seen struct {
		typ uint8
		len int
	}
	tests := []struct {
		name  string
		ext   []byte
		valid bool
		want  []seen
	}{
		{"PadN only", []byte{ProtoUDP, 0, 1, 4, 0, 0, 0, 0}, true, []seen{{1, 6}}},
		{"Pad1s", []byte{ProtoUDP, 0, 0, 0, 0, 0, 0, 0}, true, nil},
		{"Pad1 PadN(0) router alert", []byte{ProtoUDP, 0, 0, 1, 0, 5, 2, 0, 0}, true, []seen{{1, 2}, {5, 4}}},
		{"jumbo", []byte{ProtoUDP, 0, 0, 0, 0xc2, 4, 0, 1, 0, 0}, true, []seen{{0xc2, 6}}},
		{"empty body", []byte{ProtoUDP, 0}, true, nil},
		{"too short", []byte{ProtoUDP}, false, nil},
		{"nil", nil, false, nil},
		{"type without length", []byte{ProtoUDP, 0, 0, 0, 0, 0, 0, 5}, false, nil},
		{"length past end", []byte{ProtoUDP, 0, 1, 5, 0, 0, 0, 0}, false, nil},
		{"second option past end", []byte{ProtoUDP, 0, 1, 0, 5, 3, 0, 0}, false, []seen{{1, 2}}},
	}
	for _, tc := range tests {
		var got []seen
		valid := Options(tc.ext, func(typ uint8, opt []byte) bool {
			if opt[0] != typ || int(opt[1])+2 != len(opt) {
				t.Errorf("%s: bad opt % x for type %d", tc.name, opt, typ)
			}
			got = append(got, seen{typ, len(opt)})
			return true
		})
		if valid != tc.valid {
			t.Errorf("%s: Options = %v, want %v", tc.name, valid, tc.valid)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: saw %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: saw %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	// Stopping early is not malformed.
	calls := 0
	if !Options([]byte{0, 0, 1, 0, 1, 0, 1, 0}, func(uint8, []byte) bool { calls++; return false }) || calls != 1 {
		t.Fatalf("stop: calls %d", calls)
	}
	// Walk + Options together over a built packet.
	ip := build6(ProtoUDP, 8, ext{proto: ProtoHopByHop, len: 16})
	c, ok := ip.Walk(len(ip))
	if !ok || c.N != 1 {
		t.Fatal("Walk")
	}
	if !Options(ip[IPv6Len:c.Off], func(typ uint8, opt []byte) bool { return typ == 1 && len(opt) == 14 }) {
		t.Fatal("Options over HBH")
	}
}

// UDP over IPv6 with the RFC 8200 §8.1 pseudo header.
func TestUDP6Checksum(t *testing.T) {
	r := newRand(8)
	for i := 0; i < 300; i++ {
		pl := r.IntN(200)
		ip := build6(ProtoUDP, UDPLen+pl, ext{proto: ProtoDstOpts, len: 8})
		c, ok := ip.Walk(len(ip))
		if !ok {
			t.Fatal("Walk")
		}
		u := UDP(ip[c.Off:])
		u.SetSrcPort(4500)
		u.SetDstPort(4500)
		u.SetLength(UDPLen + pl)
		copy(u[UDPLen:], randBytes(r, pl))
		ps := ip.PseudoSum(ProtoUDP, u.Length())
		u.SetChecksum(u.CalcChecksum(ps))
		if !u.IsValid(len(u)) || Fold(Sum(u, ps)) != 0xffff {
			t.Fatal("UDP/IPv6 checksum does not verify")
		}
		ph := make([]byte, 40, 40+len(u))
		copy(ph, ip[8:40])
		binary.BigEndian.PutUint32(ph[32:], uint32(u.Length()))
		ph[39] = ProtoUDP
		seg := append(ph, u...)
		seg[40+6], seg[40+7] = 0, 0
		want := naiveChecksum(seg, 0)
		if want == 0 {
			want = 0xffff
		}
		if u.Checksum() != want {
			t.Fatalf("UDP/IPv6 checksum %#04x, naive %#04x", u.Checksum(), want)
		}
	}
}
