package hdr

import (
	"encoding/binary"
	"math"
	"testing"
)

// RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (the sum
// of the 16-bit words 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded).
func TestSumRFC1071(t *testing.T) {
	data := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Fold(Sum(data, 0)); got != 0xddf2 {
		t.Fatalf("Fold(Sum) = %#04x, want 0xddf2", got)
	}
	if got := Checksum(data, 0); got != 0x220d {
		t.Fatalf("Checksum = %#04x, want 0x220d", got)
	}
	// In even-length pieces (RFC 1071 §2(C), incremental/parallel sums).
	for cut := 0; cut <= len(data); cut += 2 {
		if got := Fold(Sum(data[cut:], Sum(data[:cut], 0))); got != 0xddf2 {
			t.Errorf("split at %d: %#04x, want 0xddf2", cut, got)
		}
	}
	// Appending the checksum makes the whole sum 0xffff.
	full := binary.BigEndian.AppendUint16(append([]byte(nil), data...), 0x220d)
	if got := Fold(Sum(full, 0)); got != 0xffff {
		t.Fatalf("sum with checksum = %#04x, want 0xffff", got)
	}
}

func TestSumOddLength(t *testing.T) {
	tests := []struct {
		data []byte
		want uint16
	}{
		{nil, 0},
		{[]byte{0xab}, 0xab00},
		{[]byte{0x01, 0x02, 0x03}, 0x0402},
		{[]byte{0xff, 0xff, 0xff}, 0xff00}, // ffff + ff00 = 1feff -> feff + 1
		{[]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6}, 0xdcfb}, // 0001+f203+f4f5+f600
		{[]byte{1, 2, 3, 4, 5}, 0x0906},                            // 0102+0304+0500
	}
	for _, tc := range tests {
		if got := Fold(Sum(tc.data, 0)); got != tc.want {
			t.Errorf("Fold(Sum(% x)) = %#04x, want %#04x", tc.data, got, tc.want)
		}
		if got := naiveSum(tc.data, 0); got != tc.want {
			t.Errorf("naiveSum(% x) = %#04x, want %#04x (test helper broken)", tc.data, got, tc.want)
		}
	}
	// Odd lengths across every tail size of the unrolled loops.
	r := newRand(1)
	for n := 1; n < 80; n += 2 {
		b := randBytes(r, n)
		if got, want := Fold(Sum(b, 0)), naiveSum(b, 0); got != want {
			t.Errorf("len %d: %#04x, want %#04x", n, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		in   uint64
		want uint16
	}{
		{0, 0},
		{1, 1},
		{0xffff, 0xffff},
		{0x10000, 1},
		{0x1fffe, 0xffff},
		{0xffffffff, 0xffff},
		{0x100000000, 1},
		{math.MaxUint64, 0xffff},
		{1 << 63, 0x8000},
		{0x0001_0002_0003_0004, 0x000a},
	}
	for _, tc := range tests {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%#x) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

// Sum against a naive 16-bit loop on random data of random length and
// random initial values (including ones near 2^64, which must not lose a
// carry).
func TestSumVsNaive(t *testing.T) {
	r := newRand(2)
	edges := []uint64{0, 1, 0xffff, 0x10000, math.MaxUint32, math.MaxUint64, math.MaxUint64 - 1,
		math.MaxUint64 - 0xffff, 1 << 63, math.MaxUint64 - 1<<40}
	for i := 0; i < 5000; i++ {
		n := r.IntN(2001)
		b := randBytes(r, n)
		var init uint64
		switch {
		case i < len(edges):
			init = edges[i]
		case i%4 == 0:
			init = r.Uint64()
		case i%4 == 1:
			init = math.MaxUint64 - r.Uint64N(1<<44)
		default:
			init = r.Uint64N(1 << 20)
		}
		if i%7 == 0 {
			for j := range b {
				b[j] = 0xff // maximise carries
			}
		}
		got, want := Fold(Sum(b, init)), naiveSum(b, init)
		if got != want {
			t.Fatalf("len %d initial %#x: Fold(Sum) = %#04x, naive %#04x", n, init, got, want)
		}
		if c := Checksum(b, init); c != ^want {
			t.Fatalf("len %d initial %#x: Checksum = %#04x, want %#04x", n, init, c, ^want)
		}
		// Split into two even-length pieces.
		cut := r.IntN(n/2+1) * 2
		if got := Fold(Sum(b[cut:], Sum(b[:cut], init))); got != want {
			t.Fatalf("len %d cut %d initial %#x: %#04x, want %#04x", n, cut, init, got, want)
		}
	}
}

// Chained Sum calls must never overflow, however many pieces.
func TestSumChained(t *testing.T) {
	b := make([]byte, 1<<16)
	for i := range b {
		b[i] = 0xff
	}
	s := uint64(math.MaxUint64)
	for i := 0; i < 64; i++ {
		s = Sum(b, s)
	}
	// Every word is 0xffff (== -0), so the sum stays -0.
	if got := Fold(s); got != 0xffff {
		t.Fatalf("Fold = %#04x, want 0xffff", got)
	}
}

func TestPseudoSum(t *testing.T) {
	src, dst := [4]byte{192, 168, 0, 1}, [4]byte{192, 168, 0, 199}
	// c0a8 + 0001 + c0a8 + 00c7 + 0011 + 0022
	want := uint16(0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 0x0011 + 0x0022 - 0xffff)
	if got := Fold(PseudoSum4(src, dst, ProtoUDP, 0x22)); got != want {
		t.Fatalf("PseudoSum4 = %#04x, want %#04x", got, want)
	}
	// IPv6: the same as summing the 40-byte pseudo header of RFC 8200 §8.1.
	s6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	d6 := [16]byte{0xfe, 0x80, 8: 0x02, 0x1f, 0xca, 0xff, 0xfe, 0xb3, 0x76, 0x40}
	for _, n := range []int{0, 8, 1280, 70000} {
		ph := make([]byte, 40)
		copy(ph, s6[:])
		copy(ph[16:], d6[:])
		binary.BigEndian.PutUint32(ph[32:], uint32(n))
		ph[39] = ProtoICMPv6
		if got, want := Fold(PseudoSum6(&s6, &d6, ProtoICMPv6, n)), naiveSum(ph, 0); got != want {
			t.Errorf("PseudoSum6 n=%d = %#04x, want %#04x", n, got, want)
		}
	}
}

// RFC 1624 §4 example: the sum of the other header octets is 0xcd7a, a
// field changes from 0x5555 to 0x3285. Eqn. 3 must give 0x0000 (eqn. 2
// would wrongly give 0xffff).
func TestUpdateChecksumRFC1624(t *testing.T) {
	hc := ^Fold(0xcd7a + 0x5555)
	if hc != 0xdd2f {
		t.Fatalf("HC = %#04x, want 0xdd2f", hc)
	}
	if got := UpdateChecksum(0xdd2f, 0x5555, 0x3285); got != 0x0000 {
		t.Fatalf("UpdateChecksum = %#04x, want 0x0000", got)
	}
	// And back again.
	if got := UpdateChecksum(0x0000, 0x3285, 0x5555); got != 0xdd2f {
		t.Fatalf("UpdateChecksum back = %#04x, want 0xdd2f", got)
	}
	// No change keeps the checksum.
	for _, c := range []uint16{0, 1, 0x1234, 0xfffe} {
		if got := UpdateChecksum(c, 0xabcd, 0xabcd); got != c {
			t.Errorf("UpdateChecksum(%#x, same) = %#x", c, got)
		}
	}
}

// UpdateChecksum/UpdateChecksum32 against full recomputation after random
// field changes in random IPv4 headers.
func TestUpdateChecksumRandom(t *testing.T) {
	r := newRand(3)
	for i := 0; i < 20000; i++ {
		ip := randIPv4(r, 0)
		if !ip.ChecksumValid() {
			t.Fatal("randIPv4 produced a bad checksum")
		}
		hl := ip.HeaderLen()
		if r.IntN(2) == 0 {
			// A 16-bit word other than the checksum (and keep version/IHL).
			w := 1 + r.IntN(hl/2-1)
			if w == 5 {
				w = 4
			}
			off := 2 * w
			old := binary.BigEndian.Uint16(ip[off:])
			nw := uint16(r.Uint32())
			if i%10 == 0 {
				nw = ^old // the largest swing
			}
			binary.BigEndian.PutUint16(ip[off:], nw)
			got := UpdateChecksum(ip.Checksum(), old, nw)
			if want := ip.CalcChecksum(); got != want {
				t.Fatalf("word %d %#04x->%#04x: incremental %#04x, full %#04x", w, old, nw, got, want)
			}
			ip.SetChecksum(got)
		} else {
			// An address (NAT-style), 32 bits.
			off := 12 + 4*r.IntN(2)
			old := binary.BigEndian.Uint32(ip[off:])
			nw := r.Uint32()
			binary.BigEndian.PutUint32(ip[off:], nw)
			got := UpdateChecksum32(ip.Checksum(), old, nw)
			if want := ip.CalcChecksum(); got != want {
				t.Fatalf("addr@%d %#08x->%#08x: incremental %#04x, full %#04x", off, old, nw, got, want)
			}
			ip.SetChecksum(got)
		}
		if !ip.ChecksumValid() {
			t.Fatalf("checksum invalid after update: % x", []byte(ip))
		}
	}
}

// headerWithZeroChecksum returns a header whose correct checksum is
// 0x0000 (its other words sum to 0xffff), by choosing the ID.
func headerWithZeroChecksum(t *testing.T, ip IPv4) {
	t.Helper()
	ip.SetID(0)
	ip.SetChecksum(0)
	s := Fold(Sum(ip[:ip.HeaderLen()], 0))
	ip.SetID(0xffff - s) // s + id == 0xffff (or s == 0xffff, id == 0)
	if c := ip.CalcChecksum(); c != 0 {
		t.Fatalf("CalcChecksum = %#x, want 0", c)
	}
	ip.SetChecksum(0)
}

// The 0x0000/0xffff corner of RFC 1624: updating into and out of a header
// whose checksum is 0x0000 agrees with recomputation.
func TestUpdateChecksumZeroCorner(t *testing.T) {
	r := newRand(4)
	for i := 0; i < 2000; i++ {
		ip := randIPv4(r, 0)
		headerWithZeroChecksum(t, ip)
		if !ip.ChecksumValid() {
			t.Fatal("zero-checksum header not valid")
		}
		// Out of the corner.
		old := ip.ID()
		nw := uint16(r.Uint32())
		ip.SetID(nw)
		got := UpdateChecksum(0, old, nw)
		if want := ip.CalcChecksum(); got != want {
			t.Fatalf("out of corner: %#04x, want %#04x", got, want)
		}
		ip.SetChecksum(got)
		// Back into it.
		got = UpdateChecksum(got, nw, old)
		ip.SetID(old)
		if got != 0 {
			t.Fatalf("into corner: %#04x, want 0x0000", got)
		}
	}
}

func TestDecTTL(t *testing.T) {
	r := newRand(5)
	for i := 0; i < 200; i++ {
		ip := randIPv4(r, r.IntN(64))
		ip.SetTTL(255)
		ip.UpdateChecksum()
		for ttl := 254; ttl >= 0; ttl-- {
			if got := ip.DecTTL(); int(got) != ttl || int(ip.TTL()) != ttl {
				t.Fatalf("DecTTL = %d (TTL %d), want %d", got, ip.TTL(), ttl)
			}
			if !ip.ChecksumValid() || ip.Checksum() != ip.CalcChecksum() {
				t.Fatalf("TTL %d: checksum %#04x, want %#04x", ttl, ip.Checksum(), ip.CalcChecksum())
			}
		}
	}
	// Into and out of the 0x0000 checksum corner.
	for i := 0; i < 500; i++ {
		ip := randIPv4(r, 0)
		ttl := uint8(2 + r.IntN(250))
		ip.SetTTL(ttl - 1)
		headerWithZeroChecksum(t, ip) // checksum 0 at ttl-1
		ip.SetTTL(ttl)
		ip.UpdateChecksum()
		if ip.DecTTL(); ip.Checksum() != 0 || !ip.ChecksumValid() {
			t.Fatalf("into corner: checksum %#04x, want 0x0000", ip.Checksum())
		}
		if ip.DecTTL(); ip.Checksum() != ip.CalcChecksum() {
			t.Fatalf("out of corner: checksum %#04x, want %#04x", ip.Checksum(), ip.CalcChecksum())
		}
	}
}

// Known real packets with correct checksums.
func TestKnownPackets(t *testing.T) {
	// The classic hand-checked IPv4 header (192.168.0.1 -> 192.168.0.199,
	// UDP, total length 115): checksum 0xb861.
	h := IPv4(unhex(t, "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"))
	if !h.ChecksumValid() {
		t.Error("IPv4 header: checksum not valid")
	}
	if got := h.CalcChecksum(); got != 0xb861 {
		t.Errorf("IPv4 header: CalcChecksum = %#04x, want 0xb861", got)
	}
	if got := Checksum(h, 0); got != 0 {
		t.Errorf("IPv4 header: Checksum over it = %#04x, want 0", got)
	}

	// A Linux ping (56 data bytes: a timeval then 0x10..0x37) from
	// 192.168.206.3 to 74.53.9.210, as captured on the wire.
	frame := unhex(t, `
		0050 56fc 8ab7 000c 29ea 510c 0800
		4500 0054 0000 4000 4001 57f6 c0a8 ce03 4a35 09d2
		0800 77b3 f61c 0003 cca8 7550 0000 0000 7c60 0d00 0000 0000`)
	for b := byte(0x10); b <= 0x37; b++ {
		frame = append(frame, b)
	}
	eth := Ethernet(frame)
	etype, off, _, ok := eth.PayloadType()
	if !ok || etype != EtherTypeIPv4 || off != EthernetLen {
		t.Fatalf("PayloadType = %#x %d %v", etype, off, ok)
	}
	ip := IPv4(frame[off:])
	if !ip.IsValid(len(frame)-off) || !ip.ChecksumValid() || ip.Checksum() != 0x57f6 || ip.CalcChecksum() != 0x57f6 {
		t.Fatalf("ping IPv4 header: valid %v checksum %#04x calc %#04x", ip.IsValid(len(frame)-off), ip.Checksum(), ip.CalcChecksum())
	}
	ic := ICMP(ip.Payload())
	if !ic.IsValid(len(ic)) || ic.Type() != ICMPv4EchoRequest || ic.ID() != 0xf61c || ic.Seq() != 3 {
		t.Fatalf("ping ICMP: type %d id %#x seq %d", ic.Type(), ic.ID(), ic.Seq())
	}
	if !ic.ChecksumValid(0) || ic.CalcChecksum(0) != 0x77b3 {
		t.Fatalf("ping ICMP checksum: valid %v calc %#04x, want 0x77b3", ic.ChecksumValid(0), ic.CalcChecksum(0))
	}
	// Turn it into the reply the way the router does, incrementally.
	ic.SetTypeCode(ICMPv4EchoReply, 0)
	ic.SetChecksum(UpdateChecksum(ic.Checksum(), ICMPv4EchoRequest<<8, ICMPv4EchoReply<<8))
	if ic.Checksum() != ic.CalcChecksum(0) || !ic.ChecksumValid(0) {
		t.Fatalf("echo reply checksum %#04x, want %#04x", ic.Checksum(), ic.CalcChecksum(0))
	}

	// An IPv6 neighbour advertisement (tcpdump: 2620:0:1005:0:26be:5ff:fe27:b17 >
	// fe80::21f:caff:feb3:7640, tgt is 2620:0:1005:0:26be:5ff:fe27:b17), checksum 0x1ed6.
	frame6 := unhex(t, `
		001f cab3 7640 24be 0527 0b17 86dd 6000
		0000 0018 3aff 2620 0000 1005 0000 26be
		05ff fe27 0b17 fe80 0000 0000 0000 021f
		caff feb3 7640 8800 1ed6 4000 0000 2620
		0000 1005 0000 26be 05ff fe27 0b17`)
	etype, off, _, ok = Ethernet(frame6).PayloadType()
	if !ok || etype != EtherTypeIPv6 {
		t.Fatalf("PayloadType = %#x %v", etype, ok)
	}
	ip6 := IPv6(frame6[off:])
	if !ip6.IsValid(len(ip6)) || ip6.HopLimit() != 255 || ip6.NextHeader() != ProtoICMPv6 {
		t.Fatal("NA: bad IPv6 header")
	}
	c, ok := ip6.Walk(len(ip6))
	if !ok || c.Proto != ProtoICMPv6 || c.Off != IPv6Len || c.N != 0 {
		t.Fatalf("NA: Walk = %+v %v", c, ok)
	}
	msg := ICMP(ip6[c.Off:])
	ps := ip6.PseudoSum(ProtoICMPv6, len(msg))
	if !msg.ChecksumValid(ps) || msg.CalcChecksum(ps) != 0x1ed6 {
		t.Fatalf("NA checksum: valid %v calc %#04x, want 0x1ed6", msg.ChecksumValid(ps), msg.CalcChecksum(ps))
	}
	nd := ND(msg)
	if !nd.IsValid(len(nd)) || nd.Flags() != NAFlagSolicited {
		t.Fatalf("NA: IsValid %v flags %#x", nd.IsValid(len(nd)), nd.Flags())
	}
	if nd.Target() != ip6.Src() {
		t.Fatalf("NA target %x, want %x", nd.Target(), ip6.Src())
	}
	if _, ok := nd.LinkAddr(NDOptTargetLLA); ok {
		t.Fatal("NA: LinkAddr found an option that is not there")
	}
}
