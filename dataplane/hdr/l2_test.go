package hdr

import (
	"encoding/binary"
	"testing"
)

// frame builds an Ethernet header with the given type words after the MACs.
func frame(words ...uint16) Ethernet {
	b := make([]byte, 12, 12+2*len(words))
	for _, w := range words {
		b = binary.BigEndian.AppendUint16(b, w)
	}
	return Ethernet(b)
}

func TestEthernetPayloadType(t *testing.T) {
	tests := []struct {
		name  string
		e     Ethernet
		etype uint16
		off   int
		vlan  uint16
		ok    bool
	}{
		{"untagged IPv4", frame(EtherTypeIPv4), EtherTypeIPv4, 14, 0, true},
		{"untagged ARP", frame(EtherTypeARP), EtherTypeARP, 14, 0, true},
		{"one tag", frame(EtherTypeVLAN, 0x2064, EtherTypeIPv6), EtherTypeIPv6, 18, 100, true},
		{"one tag, PCP/DEI masked", frame(EtherTypeVLAN, 0xffff, EtherTypeIPv4), EtherTypeIPv4, 18, 0xfff, true},
		{"QinQ", frame(EtherTypeQinQ, 200, EtherTypeVLAN, 100, EtherTypeIPv4), EtherTypeIPv4, 22, 200, true},
		{"two 802.1Q", frame(EtherTypeVLAN, 5, EtherTypeVLAN, 6, EtherTypeARP), EtherTypeARP, 22, 5, true},
		{"three tags stop at two", frame(EtherTypeVLAN, 1, EtherTypeVLAN, 2, EtherTypeVLAN, 3, EtherTypeIPv4),
			EtherTypeVLAN, 22, 1, true},
		{"empty", nil, 0, 0, 0, false},
		{"13 bytes", frame(EtherTypeIPv4)[:13], 0, 0, 0, false},
		{"tag truncated", frame(EtherTypeVLAN, 0x2064, EtherTypeIPv6)[:17], 0, 0, 0, false},
		{"tag without type", frame(EtherTypeVLAN, 0x2064), 0, 0, 0, false},
		{"inner tag truncated", frame(EtherTypeQinQ, 200, EtherTypeVLAN, 100, EtherTypeIPv4)[:21], 0, 0, 0, false},
	}
	for _, tc := range tests {
		etype, off, vlan, ok := tc.e.PayloadType()
		if etype != tc.etype || off != tc.off || vlan != tc.vlan || ok != tc.ok {
			t.Errorf("%s: PayloadType = %#x %d %d %v, want %#x %d %d %v", tc.name,
				etype, off, vlan, ok, tc.etype, tc.off, tc.vlan, tc.ok)
		}
	}
}

func TestEthernetAccessors(t *testing.T) {
	e := Ethernet(make([]byte, EthernetLen+VLANLen+2))
	if !e.IsValid(len(e)) || e.IsValid(13) || Ethernet(e[:13]).IsValid(14) {
		t.Fatal("IsValid")
	}
	dst, src := [6]byte{1, 0, 0x5e, 0, 0, 1}, [6]byte{2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	e.SetDst(dst)
	e.SetSrc(src)
	e.SetEtherType(EtherTypeIPv4)
	if e.Dst() != dst || e.Src() != src || e.EtherType() != EtherTypeIPv4 || e.Tagged() {
		t.Fatalf("accessors % x", []byte(e))
	}
	v := e.VLAN()
	v.Set(EtherTypeVLAN, 0x123, 5)
	binary.BigEndian.PutUint16(e[16:], EtherTypeIPv6)
	if !e.Tagged() || !v.IsValid(len(v)) || v.TPID() != EtherTypeVLAN || v.ID() != 0x123 || v.PCP() != 5 {
		t.Fatalf("VLAN % x", []byte(v))
	}
	if binary.BigEndian.Uint16(e[14:]) != 5<<13|0x123 {
		t.Fatalf("TCI %#x", binary.BigEndian.Uint16(e[14:]))
	}
	v.Set(EtherTypeQinQ, 0xffff, 7) // id masked to 12 bits
	if !e.Tagged() || v.TPID() != EtherTypeQinQ || v.ID() != 0xfff || v.PCP() != 7 {
		t.Fatalf("VLAN % x", []byte(v))
	}
	if VLAN(e[12:15]).IsValid(4) || VLAN(e[12:]).IsValid(3) {
		t.Fatal("VLAN IsValid on short tag")
	}
	if et, off, id, ok := e.PayloadType(); !ok || et != EtherTypeIPv6 || off != 18 || id != 0xfff {
		t.Fatalf("PayloadType %#x %d %d %v", et, off, id, ok)
	}
	if !IsMulticastMAC(dst) || IsMulticastMAC(src) || !IsMulticastMAC(Broadcast) {
		t.Fatal("IsMulticastMAC")
	}
}

func TestARP(t *testing.T) {
	a := ARP(make([]byte, ARPLen))
	sha, tha := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{}
	spa, tpa := [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 254}
	a.Set(ARPRequest, sha, spa, tha, tpa)
	if !a.IsValid(len(a)) {
		t.Fatal("not valid")
	}
	if a.Op() != ARPRequest || a.SHA() != sha || a.SPA() != spa || a.THA() != tha || a.TPA() != tpa {
		t.Fatalf("getters % x", []byte(a))
	}
	// Wire bytes (RFC 826 for Ethernet/IPv4).
	want := unhex(t, "0001 0800 06 04 0001 020000000001 c0000201 000000000000 c00002fe")
	if string(a) != string(want) {
		t.Fatalf("wire\n got % x\nwant % x", []byte(a), want)
	}
	a.Set(ARPReply, tha, tpa, sha, spa)
	if a.Op() != ARPReply || a.SHA() != tha || a.SPA() != tpa || a.THA() != sha || a.TPA() != spa {
		t.Fatal("reply getters")
	}
	bad := func(i int, v byte) ARP {
		b := append(ARP(nil), a...)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		a    ARP
		n    int
		want bool
	}{
		{"valid", a, ARPLen, true},
		{"valid with trailer", append(append(ARP(nil), a...), make([]byte, 18)...), ARPLen + 18, true},
		{"short", a[:ARPLen-1], ARPLen - 1, false},
		{"n short", a, ARPLen - 1, false},
		{"HTYPE 6", bad(1, 6), ARPLen, false},
		{"PTYPE IPv6", bad(2, 0x86), ARPLen, false},
		{"HLEN 8", bad(4, 8), ARPLen, false},
		{"PLEN 16", bad(5, 16), ARPLen, false},
	}
	for _, tc := range tests {
		if got := tc.a.IsValid(tc.n); got != tc.want {
			t.Errorf("%s: IsValid = %v, want %v", tc.name, got, tc.want)
		}
	}
}
