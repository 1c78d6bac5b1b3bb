package hdr

import (
	"encoding/binary"
	"testing"
)

func TestUDP(t *testing.T) {
	u := UDP(make([]byte, 16))
	u.SetSrcPort(500)
	u.SetDstPort(4500)
	u.SetLength(12)
	u.SetChecksum(0x1234)
	if u.SrcPort() != 500 || u.DstPort() != 4500 || u.Length() != 12 || u.Checksum() != 0x1234 {
		t.Fatalf("UDP % x", []byte(u))
	}
	tests := []struct {
		name   string
		length int
		n      int
		want   bool
	}{
		{"valid", 12, 16, true},
		{"exact", 16, 16, true},
		{"header only", 8, 8, true},
		{"length < 8", 7, 16, false},
		{"length 0", 0, 16, false},
		{"length > n", 17, 16, false},
		{"n < 8", 8, 7, false},
		{"n beyond slice", 8, 17, false},
	}
	for _, tc := range tests {
		u.SetLength(tc.length)
		if got := u.IsValid(tc.n); got != tc.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestTCP(t *testing.T) {
	seg := make([]byte, 32+5)
	tc := TCP(seg)
	binary.BigEndian.PutUint16(seg[0:], 443)
	binary.BigEndian.PutUint16(seg[2:], 51000)
	seg[12] = 8 << 4 // 32-byte header
	seg[13] = 0x12   // SYN|ACK
	tc.SetChecksum(0xbeef)
	if tc.SrcPort() != 443 || tc.DstPort() != 51000 || tc.HeaderLen() != 32 || tc.Flags() != 0x12 || tc.Checksum() != 0xbeef {
		t.Fatalf("TCP % x", seg)
	}
	tests := []struct {
		name string
		doff byte
		n    int
		want bool
	}{
		{"options", 8, 37, true},
		{"minimal", 5, 20, true},
		{"max", 15, 60, false}, // slice is only 37 bytes
		{"doff 4", 4, 37, false},
		{"doff 0", 0, 37, false},
		{"header past n", 8, 31, false},
		{"n < 20", 5, 19, false},
		{"n beyond slice", 5, 38, false},
	}
	for _, c := range tests {
		seg[12] = c.doff << 4
		if got := tc.IsValid(c.n); got != c.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v", c.name, c.n, got, c.want)
		}
	}
	// Checksum with the IPv4 pseudo header over a hand-built segment.
	seg[12] = 8 << 4
	src, dst := [4]byte{198, 51, 100, 1}, [4]byte{203, 0, 113, 9}
	tc.SetChecksum(0)
	tc.SetChecksum(Checksum(tc, PseudoSum4(src, dst, ProtoTCP, len(tc))))
	if Fold(Sum(tc, PseudoSum4(src, dst, ProtoTCP, len(tc)))) != 0xffff {
		t.Fatal("TCP checksum does not verify")
	}
	if want := udpSumNaive(src, dst, ProtoTCP, tc); tc.Checksum() != want {
		t.Fatalf("TCP checksum %#04x, naive %#04x", tc.Checksum(), want)
	}
	// A port rewrite updated incrementally still verifies.
	old := tc.DstPort()
	binary.BigEndian.PutUint16(seg[2:], 8443)
	tc.SetChecksum(UpdateChecksum(tc.Checksum(), old, 8443))
	if Fold(Sum(tc, PseudoSum4(src, dst, ProtoTCP, len(tc)))) != 0xffff {
		t.Fatal("TCP checksum after port rewrite does not verify")
	}
}

func TestICMP(t *testing.T) {
	c := ICMP(make([]byte, ICMPLen+4))
	c.SetTypeCode(ICMPv4Unreachable, ICMPv4CodeFragNeeded)
	c.SetRest(1400)
	c.SetChecksum(0)
	c.SetChecksum(c.CalcChecksum(0))
	if c.Type() != 3 || c.Code() != 4 || c.Rest() != 1400 || c.ID() != 0 || c.Seq() != 1400 || !c.ChecksumValid(0) {
		t.Fatalf("ICMP % x", []byte(c))
	}
	if !c.IsValid(8) || !c.IsValid(12) || c.IsValid(7) || c.IsValid(13) {
		t.Fatal("IsValid")
	}
	// ICMPv6 uses the pseudo header; with the wrong one it fails.
	ip := build6(ProtoICMPv6, ICMPLen+8)
	m := ICMP(ip[IPv6Len:])
	m.SetTypeCode(ICMPv6EchoRequest, 0)
	m.SetRest(0x00010002)
	ps := ip.PseudoSum(ProtoICMPv6, len(m))
	m.SetChecksum(m.CalcChecksum(ps))
	if !m.ChecksumValid(ps) || m.ChecksumValid(0) || m.ChecksumValid(ip.PseudoSum(ProtoICMPv6, len(m)+1)) {
		t.Fatal("ICMPv6 checksum")
	}
	if m.ID() != 1 || m.Seq() != 2 {
		t.Fatal("ID/Seq")
	}
}
