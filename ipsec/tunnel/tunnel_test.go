package tunnel

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

func ipv4(tos uint8, df bool, n int) []byte {
	p := make([]byte, n)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTOS(tos)
	ip.SetTotalLen(n)
	if df {
		ip.SetFlagsFrag(hdr.IPv4FlagDF)
	}
	ip.SetTTL(9)
	ip.SetProtocol(hdr.ProtoUDP)
	SetIPv4Checksum(p)
	return p
}

func ipv6(tc uint8, n int) []byte {
	p := make([]byte, n)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(tc, 0xabcde)
	ip.SetPayloadLen(n - 40)
	ip.SetNextHeader(hdr.ProtoNoNext)
	return p
}

func TestLenAndInner(t *testing.T) {
	v4 := ipv4(0, false, 60)
	bad := append([]byte(nil), v4...)
	bad[10] ^= 1
	for _, c := range []struct {
		name string
		p    []byte
		nh   uint8
		n    int
		r    stats.Reason
	}{
		{"v4", v4, hdr.ProtoIPIP, 60, stats.ReasonNone},
		{"v6", ipv6(0, 50), hdr.ProtoIPv6, 50, stats.ReasonNone},
		{"v4 as v6", v4, hdr.ProtoIPv6, 0, stats.ReasonBadTrailer},
		{"short", v4[:10], hdr.ProtoIPIP, 0, stats.ReasonIPTruncated},
		{"checksum", bad, hdr.ProtoIPIP, 0, stats.ReasonIPBadChecksum},
		{"not IP", v4, hdr.ProtoUDP, 0, stats.ReasonBadTrailer},
	} {
		if n, r := Inner(c.p, c.nh); n != c.n || r != c.r {
			t.Errorf("Inner %s: %d %v, want %d %v", c.name, n, r, c.n, c.r)
		}
	}
	if n, r := Len(append(v4, 1, 2, 3)); n != 60 || r != stats.ReasonNone {
		t.Errorf("Len with trailing bytes: %d %v", n, r)
	}
	if _, r := Len([]byte{0x75}); r != stats.ReasonIPTruncated && r != stats.ReasonIPBadVersion {
		t.Errorf("Len of junk: %v", r)
	}
}

// TestDecapECN is RFC 6040 §4.2, Figure 4, for both families.
func TestDecapECN(t *testing.T) {
	const drop = 0xff
	want := [4][4]uint8{ // [inner][outer]: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE
		{0, 0, 0, drop},
		{1, 1, 1, 3},
		{2, 1, 2, 3}, // ECT(0) under ECT(1) becomes ECT(1)
		{3, 3, 3, 3},
	}
	for inner := range 4 {
		for outer := range 4 {
			for _, v6 := range []bool{false, true} {
				var p []byte
				if v6 {
					p = ipv6(0xb8|uint8(inner), 40)
				} else {
					p = ipv4(0xb8|uint8(inner), false, 20)
				}
				ok := DecapECN(p, 0x20|uint8(outer))
				w := want[inner][outer]
				if w == drop {
					if ok {
						t.Errorf("inner %d outer %d: not dropped", inner, outer)
					}
					continue
				}
				if !ok || TOS(p) != 0xb8|w {
					t.Errorf("v6=%v inner %d outer %d: ok=%v tos %#x, want %#x", v6, inner, outer, ok, TOS(p), 0xb8|w)
				}
				if !v6 && !IPv4ChecksumOK(p) {
					t.Errorf("inner %d outer %d: checksum not updated", inner, outer)
				}
			}
		}
	}
}

func TestWriteOuter(t *testing.T) {
	in := ipv4(0x2b, true, 100)
	o := make([]byte, 20)
	for _, c := range []struct {
		opt Outer
		tos uint8
		df  bool
		ttl uint8
	}{
		{Outer{}, 0x28, false, DefaultTTL},
		{Outer{ECN: true, DFBit: 2, TTL: 7}, 0x2b, true, 7},
		{Outer{DFBit: 1}, 0x28, true, DefaultTTL},
	} {
		WriteOuter4(o, in, [4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 124, hdr.ProtoAH, 9, &c.opt)
		ip := hdr.IPv4(o)
		if ip.TOS() != c.tos || ip.DF() != c.df || ip.TTL() != c.ttl || ip.TotalLen() != 124 || ip.Protocol() != hdr.ProtoAH || !IPv4ChecksumOK(o) {
			t.Errorf("%+v: header %x", c.opt, o)
		}
	}
	in6 := ipv6(0x2b, 60)
	o6 := make([]byte, 40)
	var s, d [16]byte
	WriteOuter6(o6, in6, &s, &d, 100, hdr.ProtoIPComp, &Outer{ECN: true})
	ip6 := hdr.IPv6(o6)
	if ip6.TrafficClass() != 0x2b || ip6.FlowLabel() != 0xabcde || ip6.PayloadLen() != 60 || ip6.NextHeader() != hdr.ProtoIPComp || ip6.HopLimit() != DefaultTTL {
		t.Errorf("outer IPv6 %x", o6)
	}
}

func TestRelayer(t *testing.T) {
	pool := pkt.NewPool("tunnel-test", 2, 0)
	b := pool.Get()
	defer b.Free()
	b.SetBytes(ipv6(0, 48))
	if r := Relayer(b); r != stats.ReasonNone || b.Meta.L4Proto != hdr.ProtoNoNext || b.Meta.L4Off != 40 {
		t.Errorf("IPv6: %v %d %d", r, b.Meta.L4Proto, b.Meta.L4Off)
	}
	b.SetBytes(ipv4(0, false, 28))
	if r := Relayer(b); r != stats.ReasonNone || b.Meta.L4Proto != hdr.ProtoUDP || b.Meta.L4Off != 20 {
		t.Errorf("IPv4: %v %d %d", r, b.Meta.L4Proto, b.Meta.L4Off)
	}
}

// DF copies the inner DF only in mode 2 and only from IPv4.
func TestDF(t *testing.T) {
	v4df, v4, v6 := ipv4(0, true, 20), ipv4(0, false, 20), ipv6(0, 40)
	for _, c := range []struct {
		in   []byte
		mode int
		want uint16
	}{
		{v4df, 0, 0}, {v4, 1, hdr.IPv4FlagDF}, {v6, 1, hdr.IPv4FlagDF},
		{v4df, 2, hdr.IPv4FlagDF}, {v4, 2, 0}, {v6, 2, 0},
	} {
		if got := DF(c.in, c.mode); got != c.want {
			t.Errorf("mode %d, inner %x: %#x, want %#x", c.mode, c.in[:1], got, c.want)
		}
	}
}

func TestTransport(t *testing.T) {
	v4 := ipv4(0, false, 40)
	if h, next, r := Transport(v4, false); h != 20 || next != 9 || r != stats.ReasonNone {
		t.Errorf("IPv4: %d %d %v", h, next, r)
	}
	frag := ipv4(0, false, 40)
	hdr.IPv4(frag).SetFlagsFrag(hdr.IPv4FlagMF)
	if _, _, r := Transport(frag, false); r != stats.ReasonIPFragment {
		t.Errorf("IPv4 fragment: %v", r)
	}
	// IPv6 with a hop-by-hop header: AH/ESP go after it.
	v6 := ipv6(0, 40+8+8)
	hdr.IPv6(v6).SetNextHeader(hdr.ProtoHopByHop)
	copy(v6[40:], []byte{hdr.ProtoUDP, 0, 1, 4})
	if h, next, r := Transport(v6, true); h != 48 || next != 40 || r != stats.ReasonNone {
		t.Errorf("IPv6: %d %d %v", h, next, r)
	}
	bad := ipv6(0, 44)
	hdr.IPv6(bad).SetNextHeader(hdr.ProtoHopByHop)
	if _, _, r := Transport(bad, true); r != stats.ReasonIPv6BadExtHdr {
		t.Errorf("truncated IPv6 chain: %v", r)
	}
}

func TestSetLength(t *testing.T) {
	v4 := ipv4(0, false, 60)
	SetLength(v4[:44], false)
	if ip := hdr.IPv4(v4); ip.TotalLen() != 44 || !IPv4ChecksumOK(v4) {
		t.Errorf("IPv4 %x", v4[:20])
	}
	v6 := ipv6(0, 100)
	SetLength(v6[:72], true)
	if hdr.IPv6(v6).PayloadLen() != 32 {
		t.Errorf("IPv6 payload length %d", hdr.IPv6(v6).PayloadLen())
	}
}

// Unwrap leaves the inner packet with its L4 hint, or the reason.
func TestUnwrap(t *testing.T) {
	pool := pkt.NewPool("unwrap-test", 2, 0)
	for _, c := range []struct {
		name  string
		inner []byte
		nh    uint8
		outer uint8 // outer TOS
		ecn   bool
		want  stats.Reason
	}{
		{"v4", ipv4(0x02, false, 28), hdr.ProtoIPIP, 0x03, true, stats.ReasonNone},
		{"v6", ipv6(0, 48), hdr.ProtoIPv6, 0, true, stats.ReasonNone},
		{"CE over Not-ECT", ipv4(0, false, 28), hdr.ProtoIPIP, 0x03, true, stats.ReasonBadTrailer},
		{"CE over Not-ECT, compatibility", ipv4(0, false, 28), hdr.ProtoIPIP, 0x03, false, stats.ReasonNone},
		{"wrong version", ipv4(0, false, 28), hdr.ProtoIPv6, 0, false, stats.ReasonIPTruncated},
	} {
		b := pool.Get()
		outer := ipv4(c.outer, false, 20+24+len(c.inner))
		copy(outer[44:], c.inner)
		b.SetBytes(outer)
		r := Unwrap(b, 44, len(outer), c.nh, c.ecn)
		if r != c.want {
			t.Errorf("%s: %v, want %v", c.name, r, c.want)
		} else if r == stats.ReasonNone {
			got := b.Bytes()
			if len(got) != len(c.inner) || got[0] != c.inner[0] || b.Meta.L4Off == 0 {
				t.Errorf("%s: left %x (L4 at %d)", c.name, got, b.Meta.L4Off)
			}
			if c.ecn && c.outer&3 == 3 && TOS(got)&3 != 3 {
				t.Errorf("%s: CE not passed on (TOS %#x)", c.name, TOS(got))
			}
		}
		b.Free()
	}
}
