package hdr

import (
	"testing"
)

// sink keeps results alive so the compiler cannot drop the work.
var sink uint64

// parseTypical runs the per-packet path over an IPv4/UDP frame and an
// IPv6 frame with extension headers: IsValid, accessors, walkers and
// checksums.
func parseTypical(f4, f6 []byte) uint64 {
	var s uint64
	e := Ethernet(f4)
	if e.IsValid(len(f4)) {
		et, off, _, _ := e.PayloadType()
		s += uint64(et)
		ip := IPv4(f4[off:])
		if ip.IsValid(len(f4) - off) {
			s += uint64(ip.TTL()) + uint64(ip.Protocol()) + uint64(ip.TotalLen())
			src, dst := ip.Src(), ip.Dst()
			s += uint64(src[0]) + uint64(dst[3])
			if ip.ChecksumValid() {
				s++
			}
			ip.WalkOptions(func(typ uint8, _ []byte) bool { s += uint64(typ); return true })
			u := UDP(ip.Payload())
			if u.IsValid(len(u)) {
				s += uint64(u.DstPort()) + uint64(u.CalcChecksum(ip.PseudoSum(ProtoUDP, u.Length())))
			}
			ip.SetTTL(ip.TTL() + 1)
			ip.UpdateChecksum()
			s += uint64(ip.DecTTL())
		}
	}
	e = Ethernet(f6)
	if _, off, _, ok := e.PayloadType(); ok {
		ip := IPv6(f6[off:])
		if ip.IsValid(len(f6) - off) {
			c, ok := ip.Walk(len(f6) - off)
			if ok {
				s += uint64(c.Off) + uint64(c.Unfragmentable)
				Options(ip[IPv6Len:IPv6Len+8], func(typ uint8, _ []byte) bool { s += uint64(typ); return true })
				m := ICMP(ip[c.Off:])
				if m.IsValid(len(m)) && m.ChecksumValid(ip.PseudoSum(ProtoICMPv6, len(m))) {
					s++
				}
				s += uint64(Checksum(ip, 0))
				dst := ip.Dst()
				sn := SolicitedNode(&dst)
				s += uint64(MulticastMAC6(&sn)[5])
			}
		}
	}
	return s
}

func typicalFrames(tb testing.TB) (f4, f6 []byte) {
	ip, _ := buildUDP4([4]byte{192, 0, 2, 1}, [4]byte{198, 51, 100, 2}, 4500, 4500, make([]byte, 64))
	f4 = append(append([]byte{}, frame(EtherTypeIPv4)...), ip...)
	ip6 := build6(ProtoICMPv6, 16, ext{proto: ProtoHopByHop, len: 8}, ext{proto: ProtoRouting, len: 24},
		ext{proto: ProtoFragment})
	c, ok := ip6.Walk(len(ip6))
	if !ok {
		tb.Fatal("Walk")
	}
	m := ICMP(ip6[c.Off:])
	m.SetTypeCode(ICMPv6EchoRequest, 0)
	m.SetChecksum(m.CalcChecksum(ip6.PseudoSum(ProtoICMPv6, len(m))))
	f6 = append(append([]byte{}, frame(EtherTypeIPv6)...), ip6...)
	return f4, f6
}

func TestZeroAllocs(t *testing.T) {
	f4, f6 := typicalFrames(t)
	if parseTypical(f4, f6) == 0 {
		t.Fatal("nothing parsed")
	}
	allocs := testing.AllocsPerRun(1000, func() { sink += parseTypical(f4, f6) })
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, want 0", allocs)
	}
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{20, 64, 1500} {
		data := randBytes(newRand(uint64(n)), n)
		b.Run(itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var s uint16
			for b.Loop() {
				s += Checksum(data, 0)
			}
			sink += uint64(s)
		})
	}
}

func BenchmarkIPv6Walk3(b *testing.B) {
	ip := build6(ProtoUDP, 8, ext{proto: ProtoHopByHop, len: 8}, ext{proto: ProtoRouting, len: 24},
		ext{proto: ProtoDstOpts, len: 16})
	b.ReportAllocs()
	var s int
	for b.Loop() {
		c, _ := ip.Walk(len(ip))
		s += c.Off
	}
	sink += uint64(s)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkParseTypical(b *testing.B) {
	f4, f6 := typicalFrames(b)
	b.ReportAllocs()
	for b.Loop() {
		sink += parseTypical(f4, f6)
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
