package hdr

import (
	"net/netip"
	"testing"
)

// buildNS returns a neighbour solicitation for target with the given
// options appended.
func buildNS(target [16]byte, opts ...byte) ND {
	b := make([]byte, NDLen, NDLen+len(opts))
	b[0] = ICMPv6NeighborSolicit
	copy(b[8:], target[:])
	return ND(append(b, opts...))
}

var ndMAC = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}

func TestNDIsValid(t *testing.T) {
	target := netip.MustParseAddr("2001:db8::1").As16()
	slla := append([]byte{NDOptSourceLLA, 1}, ndMAC[:]...)
	tests := []struct {
		name string
		nd   ND
		n    int // -1: len
		want bool
	}{
		{"no options", buildNS(target), -1, true},
		{"source LLA", buildNS(target, slla...), -1, true},
		{"nonce + source LLA", buildNS(target, append([]byte{14, 1, 1, 2, 3, 4, 5, 6}, slla...)...), -1, true},
		{"n excludes trailing bytes", buildNS(target, slla...), NDLen, true},
		{"short", buildNS(target)[:NDLen-1], -1, false},
		{"n beyond slice", buildNS(target), NDLen + 8, false},
		{"option length 0", buildNS(target, NDOptSourceLLA, 0, 1, 2, 3, 4, 5, 6), -1, false},
		{"option past the end", buildNS(target, NDOptSourceLLA, 2, 1, 2, 3, 4, 5, 6), -1, false},
		{"option truncated", buildNS(target, NDOptSourceLLA, 1, 1, 2), -1, false},
		{"second option length 0", buildNS(target, append(append([]byte{}, slla...), 2, 0, 0, 0, 0, 0, 0, 0)...), -1, false},
		{"n cuts an option", buildNS(target, slla...), NDLen + 4, false},
	}
	for _, tc := range tests {
		n := tc.n
		if n < 0 {
			n = len(tc.nd)
		}
		if got := tc.nd.IsValid(n); got != tc.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v", tc.name, n, got, tc.want)
		}
	}
}

func TestNDLinkAddr(t *testing.T) {
	target := netip.MustParseAddr("2001:db8::1").As16()
	nd := buildNS(target,
		14, 1, 1, 2, 3, 4, 5, 6, // nonce (RFC 3971), skipped
		NDOptSourceLLA, 1, ndMAC[0], ndMAC[1], ndMAC[2], ndMAC[3], ndMAC[4], ndMAC[5])
	if !nd.IsValid(len(nd)) {
		t.Fatal("not valid")
	}
	if nd.Target() != target {
		t.Fatalf("Target %x", nd.Target())
	}
	if m, ok := nd.LinkAddr(NDOptSourceLLA); !ok || m != ndMAC {
		t.Fatalf("LinkAddr(source) = %x %v", m, ok)
	}
	if _, ok := nd.LinkAddr(NDOptTargetLLA); ok {
		t.Fatal("LinkAddr(target) found")
	}
	// A link-layer option of the wrong length (not 8 bytes) is no Ethernet address.
	nd = buildNS(target, NDOptSourceLLA, 2, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0)
	if _, ok := nd.LinkAddr(NDOptSourceLLA); ok {
		t.Fatal("LinkAddr accepted a 16-byte option")
	}
	// Malformed options are never read past.
	nd = buildNS(target, NDOptSourceLLA, 0, 1, 2, 3, 4, 5, 6)
	if _, ok := nd.LinkAddr(NDOptSourceLLA); ok {
		t.Fatal("LinkAddr read an option of length 0")
	}
	// Advertisement flags.
	na := buildNS(target, NDOptTargetLLA, 1, 1, 2, 3, 4, 5, 6)
	na[0], na[4] = ICMPv6NeighborAdvert, NAFlagRouter|NAFlagOverride
	if !na.IsValid(len(na)) || na.Flags() != 0xa0 {
		t.Fatal("NA flags")
	}
	if m, ok := na.LinkAddr(NDOptTargetLLA); !ok || m != [6]byte{1, 2, 3, 4, 5, 6} {
		t.Fatalf("LinkAddr(target) = %x %v", m, ok)
	}
}

func TestSolicitedNode(t *testing.T) {
	tests := []struct{ addr, sn, mac string }{
		{"2001:db8::1", "ff02::1:ff00:1", "33:33:ff:00:00:01"},
		{"fe80::21f:caff:feb3:7640", "ff02::1:ffb3:7640", "33:33:ff:b3:76:40"},
		{"2001:db8::aabb:ccdd:eeff", "ff02::1:ffdd:eeff", "33:33:ff:dd:ee:ff"},
		{"::", "ff02::1:ff00:0", "33:33:ff:00:00:00"},
	}
	for _, tc := range tests {
		a := netip.MustParseAddr(tc.addr).As16()
		sn := SolicitedNode(&a)
		if want := netip.MustParseAddr(tc.sn).As16(); sn != want {
			t.Errorf("SolicitedNode(%s) = %s, want %s", tc.addr, netip.AddrFrom16(sn), tc.sn)
		}
		mac := MulticastMAC6(&sn)
		if got := macString(mac); got != tc.mac {
			t.Errorf("MulticastMAC6(%s) = %s, want %s", tc.sn, got, tc.mac)
		}
		if !IsMulticastMAC(mac) {
			t.Errorf("%s is not multicast", tc.mac)
		}
	}
	// All-nodes and all-routers (RFC 2464 §7).
	for _, tc := range []struct{ addr, mac string }{{"ff02::1", "33:33:00:00:00:01"}, {"ff02::2", "33:33:00:00:00:02"}} {
		a := netip.MustParseAddr(tc.addr).As16()
		if got := macString(MulticastMAC6(&a)); got != tc.mac {
			t.Errorf("MulticastMAC6(%s) = %s, want %s", tc.addr, got, tc.mac)
		}
	}
}

func macString(m [6]byte) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexd[x>>4], hexd[x&15])
	}
	return string(b)
}
