package hdr

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// v4 returns a 20-byte header template followed by room for pad bytes.
func v4(hl, tl, n int) []byte {
	b := make([]byte, n)
	if n > 0 {
		b[0] = 0x40 | byte(hl/4)
	}
	if n >= 4 {
		binary.BigEndian.PutUint16(b[2:], uint16(tl))
	}
	return b
}

func TestIPv4IsValid(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		n    int
		want bool
	}{
		{"minimal", v4(20, 20, 20), 20, true},
		{"with payload", v4(20, 60, 60), 60, true},
		{"padding after total length", v4(20, 46, 60), 60, true},
		{"options", v4(24, 30, 30), 30, true},
		{"max IHL", v4(60, 60, 60), 60, true},
		{"empty", nil, 0, false},
		{"short", v4(20, 19, 19), 19, false},
		{"n beyond slice", v4(20, 40, 20), 40, false},
		{"version 6", append([]byte{0x65}, v4(20, 20, 20)[1:]...), 20, false},
		{"version 0", append([]byte{0x05}, v4(20, 20, 20)[1:]...), 20, false},
		{"IHL 0", v4(0, 20, 20), 20, false},
		{"IHL 4", v4(16, 20, 20), 20, false},
		{"IHL past n", v4(24, 24, 20), 20, false},
		{"IHL 15 past n", v4(60, 40, 40), 40, false},
		{"total length 0", v4(20, 0, 20), 20, false},
		{"total length < IHL", v4(24, 20, 24), 24, false},
		{"total length > n", v4(20, 41, 40), 40, false},
		{"total length > n (n < len)", v4(20, 40, 40), 39, false},
	}
	for _, tc := range tests {
		if got := IPv4(tc.b).IsValid(tc.n); got != tc.want {
			t.Errorf("%s: IsValid(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestIPv4Accessors(t *testing.T) {
	b := make([]byte, 24+8)
	ip := IPv4(b)
	ip.SetVersionIHL(24)
	ip.SetTOS(0xb8)
	ip.SetTotalLen(32)
	ip.SetID(0xbeef)
	ip.SetFlagsFrag(IPv4FlagDF)
	ip.SetTTL(64)
	ip.SetProtocol(ProtoUDP)
	src, dst := [4]byte{10, 0, 0, 1}, [4]byte{192, 0, 2, 77}
	ip.SetSrc(src)
	ip.SetDst(dst)
	copy(b[20:], []byte{IPv4OptNOP, IPv4OptNOP, IPv4OptNOP, IPv4OptEnd})
	copy(b[24:], "payload!")
	ip.UpdateChecksum()

	if !ip.IsValid(len(b)) {
		t.Fatal("not valid")
	}
	if ip.Version() != 4 || ip.HeaderLen() != 24 || ip.TOS() != 0xb8 || ip.TotalLen() != 32 ||
		ip.ID() != 0xbeef || ip.FlagsFrag() != IPv4FlagDF || !ip.DF() || ip.IsFragment() ||
		ip.FragOffset() != 0 || ip.TTL() != 64 || ip.Protocol() != ProtoUDP ||
		ip.Src() != src || ip.Dst() != dst {
		t.Fatalf("accessors: % x", b)
	}
	if !bytes.Equal(ip.Options(), b[20:24]) || string(ip.Payload()) != "payload!" {
		t.Fatalf("Options % x Payload %q", ip.Options(), ip.Payload())
	}
	if !ip.ChecksumValid() || ip.Checksum() != ip.CalcChecksum() || ip.Checksum() != naiveChecksum(append(append([]byte{}, b[:10]...), b[12:24]...), 0) {
		t.Fatalf("checksum %#04x", ip.Checksum())
	}
	ip.SetTTL(63)
	if ip.ChecksumValid() {
		t.Fatal("checksum still valid after changing TTL without update")
	}

	// Fragments.
	for _, tc := range []struct {
		ff   uint16
		frag bool
		off  int
		df   bool
	}{
		{0, false, 0, false},
		{IPv4FlagMF, true, 0, false},
		{IPv4FlagDF | 1, true, 8, true},
		{0x1fff, true, 0x1fff * 8, false},
		{IPv4FlagDF | IPv4FlagMF | 185, true, 1480, true},
	} {
		ip.SetFlagsFrag(tc.ff)
		if ip.IsFragment() != tc.frag || ip.FragOffset() != tc.off || ip.DF() != tc.df {
			t.Errorf("flags %#04x: IsFragment %v FragOffset %d DF %v", tc.ff, ip.IsFragment(), ip.FragOffset(), ip.DF())
		}
	}
	// Every IHL round-trips.
	for hl := 20; hl <= 60; hl += 4 {
		ip.SetVersionIHL(hl)
		if ip.Version() != 4 || ip.HeaderLen() != hl {
			t.Errorf("SetVersionIHL(%d): version %d hl %d", hl, ip.Version(), ip.HeaderLen())
		}
	}
	ip.SetVersionIHL(24)
	if got, want := Fold(ip.PseudoSum(ProtoUDP, 8)), Fold(PseudoSum4(src, dst, ProtoUDP, 8)); got != want {
		t.Fatalf("PseudoSum %#x, want %#x", got, want)
	}
}

// ipWithOptions returns an IPv4 header carrying opts (padded to 4 bytes
// with End) and its view.
func ipWithOptions(opts []byte) IPv4 {
	hl := IPv4MinLen + (len(opts)+3)/4*4
	b := make([]byte, hl)
	ip := IPv4(b)
	ip.SetVersionIHL(hl)
	ip.SetTotalLen(hl)
	copy(b[IPv4MinLen:], opts)
	return ip
}

func TestIPv4WalkOptions(t *testing.T) {
	rr := []byte{IPv4OptRR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0}
	lsrr := []byte{IPv4OptLSRR, 7, 4, 192, 0, 2, 1}
	type seen struct {
		typ uint8
		len int
	}
	tests := []struct {
		name  string
		opts  []byte
		valid bool
		want  []seen
	}{
		{"none", nil, true, nil},
		{"NOPs", []byte{1, 1, 1, 1}, true, []seen{{1, 1}, {1, 1}, {1, 1}, {1, 1}}},
		{"End stops", []byte{0, 0x44, 0x00, 0xff}, true, nil},
		{"NOP then End then garbage", []byte{1, 0, 0xff, 0}, true, []seen{{1, 1}}},
		{"RR", append(append([]byte{}, rr...), 0), true, []seen{{IPv4OptRR, 11}}},
		{"NOP LSRR", append([]byte{1}, lsrr...), true, []seen{{1, 1}, {IPv4OptLSRR, 7}}},
		{"RR LSRR End", append(append(append([]byte{}, rr...), lsrr...), 0, 0), true,
			[]seen{{IPv4OptRR, 11}, {IPv4OptLSRR, 7}}},
		{"length 0", []byte{IPv4OptRR, 0, 0, 0}, false, nil},
		{"length 1", []byte{IPv4OptRR, 1, 0, 0}, false, nil},
		{"length too long", []byte{IPv4OptRR, 5, 4, 0}, false, nil},
		{"length too long after NOP", []byte{1, 1, IPv4OptTS, 40}, false, []seen{{1, 1}, {1, 1}}},
		{"type without length", []byte{1, 1, 1, IPv4OptLSRR}, false, []seen{{1, 1}, {1, 1}, {1, 1}}},
		{"length 2 (empty)", []byte{0x94, 2, 0, 0}, true, []seen{{0x94, 2}}},
		{"max 40 bytes", append([]byte{IPv4OptTS, 40}, make([]byte, 38)...), true, []seen{{IPv4OptTS, 40}}},
	}
	for _, tc := range tests {
		ip := ipWithOptions(tc.opts)
		if !ip.IsValid(len(ip)) {
			t.Fatalf("%s: header not valid", tc.name)
		}
		var got []seen
		valid := ip.WalkOptions(func(typ uint8, opt []byte) bool {
			if opt[0] != typ {
				t.Errorf("%s: opt[0] %d != typ %d", tc.name, opt[0], typ)
			}
			got = append(got, seen{typ, len(opt)})
			return true
		})
		if valid != tc.valid {
			t.Errorf("%s: WalkOptions = %v, want %v", tc.name, valid, tc.valid)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: saw %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: saw %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	// The callback can stop the walk; that is not malformed.
	ip := ipWithOptions(append([]byte{1}, lsrr...))
	calls := 0
	if !ip.WalkOptions(func(uint8, []byte) bool { calls++; return false }) || calls != 1 {
		t.Fatalf("stop: calls %d", calls)
	}
	ip = ipWithOptions(append(append([]byte{}, lsrr...), 0xff))
	calls = 0
	if !ip.WalkOptions(func(uint8, []byte) bool { calls++; return false }) || calls != 1 {
		t.Fatalf("stop after LSRR: calls %d", calls)
	}
}

// buildUDP4 builds an IPv4/UDP packet with payload and a correct checksum.
func buildUDP4(src, dst [4]byte, sport, dport uint16, payload []byte) (IPv4, UDP) {
	n := IPv4MinLen + UDPLen + len(payload)
	b := make([]byte, n)
	ip := IPv4(b)
	ip.SetVersionIHL(IPv4MinLen)
	ip.SetTotalLen(n)
	ip.SetTTL(64)
	ip.SetProtocol(ProtoUDP)
	ip.SetSrc(src)
	ip.SetDst(dst)
	ip.UpdateChecksum()
	u := UDP(ip.Payload())
	u.SetSrcPort(sport)
	u.SetDstPort(dport)
	u.SetLength(UDPLen + len(payload))
	copy(u[UDPLen:], payload)
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(ProtoUDP, u.Length())))
	return ip, u
}

// udpSumNaive computes the UDP checksum over an explicit pseudo header.
func udpSumNaive(src, dst [4]byte, proto uint8, seg []byte) uint16 {
	ph := append(append(append([]byte{}, src[:]...), dst[:]...), 0, proto, byte(len(seg)>>8), byte(len(seg)))
	c := append([]byte{}, seg...)
	c[6], c[7] = 0, 0
	if proto == ProtoTCP {
		c[6], c[7] = seg[6], seg[7]
		c[16], c[17] = 0, 0
	}
	return naiveChecksum(append(ph, c...), 0)
}

func TestUDP4Checksum(t *testing.T) {
	r := newRand(6)
	for i := 0; i < 500; i++ {
		src, dst := [4]byte(randBytes(r, 4)), [4]byte(randBytes(r, 4))
		ip, u := buildUDP4(src, dst, uint16(r.Uint32()), uint16(r.Uint32()), randBytes(r, r.IntN(300)))
		if !ip.IsValid(len(ip)) || !u.IsValid(len(u)) {
			t.Fatal("not valid")
		}
		ps := ip.PseudoSum(ProtoUDP, u.Length())
		if Fold(Sum(u[:u.Length()], ps)) != 0xffff {
			t.Fatalf("UDP checksum does not verify: % x", []byte(ip))
		}
		want := udpSumNaive(src, dst, ProtoUDP, u[:u.Length()])
		if want == 0 {
			want = 0xffff
		}
		if u.Checksum() != want {
			t.Fatalf("UDP checksum %#04x, naive %#04x", u.Checksum(), want)
		}
	}
	// A computed 0 is sent as 0xffff (RFC 768) and still verifies.
	src, dst := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	ip, u := buildUDP4(src, dst, 1000, 2000, []byte{0, 0})
	c := u.Checksum()
	// Put the computed checksum into the payload word instead: the sum of
	// everything becomes 0xffff, so the true checksum is 0.
	binary.BigEndian.PutUint16(u[8:], c)
	got := u.CalcChecksum(ip.PseudoSum(ProtoUDP, u.Length()))
	if got != 0xffff {
		t.Fatalf("zero checksum sent as %#04x, want 0xffff", got)
	}
	u.SetChecksum(got)
	if Fold(Sum(u, ip.PseudoSum(ProtoUDP, u.Length()))) != 0xffff {
		t.Fatal("0xffff checksum does not verify")
	}
}

func TestICMP4Checksum(t *testing.T) {
	r := newRand(7)
	for i := 0; i < 500; i++ {
		msg := ICMP(randBytes(r, ICMPLen+r.IntN(200)))
		msg.SetTypeCode(ICMPv4EchoRequest, 0)
		msg.SetChecksum(0)
		want := naiveChecksum(msg, 0)
		msg.SetChecksum(0xabcd) // CalcChecksum must ignore the field
		msg.SetChecksum(msg.CalcChecksum(0))
		if !msg.ChecksumValid(0) {
			t.Fatal("ICMP checksum does not verify")
		}
		if msg.Checksum() != want {
			t.Fatalf("checksum %#04x, naive %#04x", msg.Checksum(), want)
		}
		msg[len(msg)-1] ^= 0x40
		if msg.ChecksumValid(0) {
			t.Fatal("corrupt ICMP message verifies")
		}
	}
}
