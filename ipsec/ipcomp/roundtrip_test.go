package ipcomp

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// TestRoundTrip: compressible and random payloads of several sizes in
// both modes and families; compressible ones shrink and carry the IPComp
// header, random ones go uncompressed; all come back identical.
func TestRoundTrip(t *testing.T) {
	for _, c := range compressors {
		t.Run(c.name, func(t *testing.T) { testRoundTrip1(t, c.opt) })
	}
}

func testRoundTrip1(t *testing.T, opt Options) {
	p, q := NewProcessor(), NewProcessor()
	for _, o := range []saOpts{{}, {tunnel: true}, {v6: true}, {v6: true, tunnel: true}, {raw: true, spi: 0x4711}} {
		for _, random := range []bool{false, true} {
			for _, n := range []int{10, 100, 500, 1400, 1700} {
				name := fmt.Sprintf("%+v/random=%v/%d", o, random, n)
				sa := newSA(t, o)
				var clear []byte
				if o.v6 {
					clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0x28, payload(n, random, uint64(n)), true)
				} else {
					clear = udp4("192.0.2.1", "198.51.100.2", 0x28, payload(n, random, uint64(n)))
				}
				b := buf(t, clear)
				if r := encap1(p, b, sa, opt); r != stats.ReasonNone {
					t.Fatalf("%s: encap %v", name, r)
				}
				w := b.Bytes()
				compressed := b.Meta.L4Proto == hdr.ProtoIPComp
				pay, outer := len(clear)-20, 0
				if o.v6 {
					pay = len(clear) - 48
				}
				if o.tunnel {
					pay, outer = len(clear), 20
					if o.v6 {
						outer = 40
					}
				}
				small := pay < DefaultMinLen
				switch {
				case compressed && small:
					t.Errorf("%s: compressed below the threshold", name)
				case !compressed && !random && pay >= 200:
					t.Errorf("%s: not compressed", name)
				case compressed:
					if len(w)-outer >= len(clear) {
						t.Errorf("%s: %d bytes compressed from %d", name, len(w)-outer, len(clear))
					}
					c := hdr.IPComp(w[b.Meta.L4Off:])
					want := uint16(CPIDeflate)
					if o.raw {
						want = uint16(o.spi)
					}
					if c.CPI() != want || c.Flags() != 0 {
						t.Errorf("%s: CPI %#x flags %#x, want %#x", name, c.CPI(), c.Flags(), want)
					}
				}
				if !compressed && !o.tunnel && !bytes.Equal(w, clear) {
					t.Errorf("%s: uncompressed transport packet changed", name)
				}
				if !compressed && o.tunnel && b.Meta.L4Proto != tunnelProto(clear) {
					t.Errorf("%s: uncompressed tunnel packet is not IP-in-IP: %d", name, b.Meta.L4Proto)
				}
				b = wire(t, b)
				if !compressed && !o.tunnel {
					b.Free() // nothing to decapsulate
					continue
				}
				if r := decap1(q, b, sa, opt); r != stats.ReasonNone {
					t.Fatalf("%s: decap %v", name, r)
				}
				if !bytes.Equal(b.Bytes(), clear) {
					t.Fatalf("%s: round trip differs\n got %x\nwant %x", name, b.Bytes(), clear)
				}
				if st := b.Meta.Steps(); len(st) != 1 || st[0].Proto != hdr.ProtoIPComp || st[0].Tunnel != o.tunnel {
					t.Fatalf("%s: history %+v", name, st)
				}
				b.Free()
			}
		}
	}
}

func tunnelProto(p []byte) uint8 {
	if p[0]>>4 == 6 {
		return hdr.ProtoIPv6
	}
	return hdr.ProtoIPIP
}

// TestMinLen: the threshold knob decides what is tried at all.
func TestMinLen(t *testing.T) {
	p := NewProcessor()
	sa := newSA(t, saOpts{})
	clear := udp4("192.0.2.1", "198.51.100.2", 0, payload(300, false, 0))
	for _, c := range []struct {
		min        int
		compressed bool
		cnt        Counts
	}{{0, true, Counts{}}, {308, true, Counts{}}, {309, false, Counts{Threshold: 1}}} {
		b := buf(t, clear)
		if r := encap1(p, b, sa, Options{MinLen: c.min}); r != stats.ReasonNone {
			t.Fatal(r)
		}
		if got := b.Meta.L4Proto == hdr.ProtoIPComp; got != c.compressed || p.Counts() != c.cnt {
			t.Errorf("minlen %d: compressed %v counts %+v", c.min, got, p.Counts())
		}
		b.Free()
	}
	b := buf(t, udp4("192.0.2.1", "198.51.100.2", 0, payload(300, true, 1)))
	encap1(p, b, sa, Options{})
	if p.Counts() != (Counts{Uncompr: 1}) {
		t.Errorf("random payload: counts %+v", p.Counts())
	}
	b.Free()
}

// ipcompPacket wraps a raw deflate stream in an IPv4 IPComp packet.
func ipcompPacket(nh uint8, cpi uint16, stream []byte) []byte {
	p := make([]byte, 24+len(stream))
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTotalLen(len(p))
	ip.SetTTL(64)
	ip.SetProtocol(hdr.ProtoIPComp)
	ip.SetSrc([4]byte{192, 0, 2, 1})
	ip.SetDst([4]byte{198, 51, 100, 2})
	ip.UpdateChecksum()
	hdr.IPComp(p[20:]).Set(nh, cpi)
	copy(p[24:], stream)
	return p
}

// deflateBest is what a peer sends: klauspost/compress at its best level.
func deflateBest(t testing.TB, data []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	w.Write(data)
	w.Close()
	return out.Bytes()
}

// TestBomb: streams that inflate past 65,535 bytes, the MTU or the ratio
// cap are counted drops that cost at most the bound.
func TestBomb(t *testing.T) {
	q := NewProcessor()
	tsa := newSA(t, saOpts{tunnel: true})
	sa := newSA(t, saOpts{})
	inner := udp4("10.0.0.1", "10.0.0.2", 0, make([]byte, 1400))
	ok := deflateBest(t, inner)
	huge := deflateBest(t, make([]byte, 1<<20))
	for _, c := range []struct {
		name string
		sa   interface{}
		pk   []byte
		opt  Options
		want stats.Reason
	}{
		{"1 MiB of zeros", sa, ipcompPacket(hdr.ProtoUDP, 2, huge), Options{MaxRatio: 1 << 20}, stats.ReasonDecompress},
		{"ratio", tsa, ipcompPacket(hdr.ProtoIPIP, 2, ok), Options{MaxRatio: 10}, stats.ReasonDecompress},
		{"mtu", tsa, ipcompPacket(hdr.ProtoIPIP, 2, ok), Options{MaxLen: 1400}, stats.ReasonDecompress},
		{"fits", tsa, ipcompPacket(hdr.ProtoIPIP, 2, ok), Options{MaxLen: 1500}, stats.ReasonNone},
	} {
		b := buf(t, c.pk)
		s := sa
		if c.sa == tsa {
			s = tsa
		}
		if r := decap1(q, b, s, c.opt); r != c.want {
			t.Errorf("%s: %v, want %v", c.name, r, c.want)
		}
		b.Free()
	}
}

// TestCorrupt: truncated, flipped and garbage streams are counted drops.
func TestCorrupt(t *testing.T) {
	q := NewProcessor()
	sa := newSA(t, saOpts{tunnel: true})
	inner := udp4("10.0.0.1", "10.0.0.2", 0, payload(1000, false, 0))
	good := deflateBest(t, inner)
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 0xff
	for _, c := range []struct {
		name   string
		stream []byte
		nh     uint8
	}{
		{"truncated", good[:len(good)/2], hdr.ProtoIPIP},
		{"flipped", bad, hdr.ProtoIPIP},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, hdr.ProtoIPIP},
		{"empty", nil, hdr.ProtoIPIP},
		{"wrong next header", good, hdr.ProtoIPv6},
	} {
		b := buf(t, ipcompPacket(c.nh, 2, c.stream))
		r := decap1(q, b, sa, Options{})
		if r == stats.ReasonNone {
			t.Errorf("%s: accepted", c.name)
		}
		b.Free()
	}
	// The processor still works afterwards.
	b := buf(t, ipcompPacket(hdr.ProtoIPIP, 2, good))
	if r := decap1(q, b, sa, Options{}); r != stats.ReasonNone || !bytes.Equal(b.Bytes(), inner) {
		t.Errorf("good stream after corrupt ones: %v", r)
	}
	b.Free()
}

// TestPlainIPIP: an IPComp tunnel takes IP-in-IP the peer did not
// compress (RFC 3173 §2.2) and records it as an IPComp step; a transport
// SA does not.
func TestPlainIPIP(t *testing.T) {
	q := NewProcessor()
	inner := udp6("2001:db8:1::1", "2001:db8:2::2", 0, payload(20, false, 0), false)
	pk := make([]byte, 20+len(inner))
	ip := hdr.IPv4(pk)
	ip.SetVersionIHL(20)
	ip.SetTotalLen(len(pk))
	ip.SetTTL(64)
	ip.SetProtocol(hdr.ProtoIPv6)
	ip.UpdateChecksum()
	copy(pk[20:], inner)
	b := buf(t, pk)
	if r := decap1(q, b, newSA(t, saOpts{tunnel: true}), Options{}); r != stats.ReasonNone || !bytes.Equal(b.Bytes(), inner) {
		t.Fatalf("plain 6in4: %v", r)
	}
	if st := b.Meta.Steps(); len(st) != 1 || st[0].Proto != hdr.ProtoIPComp || !st[0].Tunnel {
		t.Fatalf("history %+v", st)
	}
	b.Free()
	b = buf(t, pk)
	if r := decap1(q, b, newSA(t, saOpts{}), Options{}); r != stats.ReasonNoSA {
		t.Fatalf("transport SA took IP-in-IP: %v", r)
	}
	b.Free()
}

// TestStdlibInflates: what we send is a raw deflate stream the standard
// library inflates to the payload, and each packet stands alone.
func TestStdlibInflates(t *testing.T) {
	p := NewProcessor()
	sa := newSA(t, saOpts{})
	for i := range 3 {
		clear := udp4("192.0.2.1", "198.51.100.2", 0, payload(700+i, false, 0))
		b := buf(t, clear)
		if r := encap1(p, b, sa, defaults); r != stats.ReasonNone || b.Meta.L4Proto != hdr.ProtoIPComp {
			t.Fatal(r)
		}
		w := b.Bytes()
		if binary.BigEndian.Uint16(w[2:]) != uint16(len(w)) || w[9] != hdr.ProtoIPComp || w[20] != hdr.ProtoUDP {
			t.Fatalf("header %x", w[:24])
		}
		got, err := io.ReadAll(flate.NewReader(bytes.NewReader(w[24:])))
		if err != nil || !bytes.Equal(got, clear[20:]) {
			t.Fatalf("stdlib inflate: %v", err)
		}
		b.Free()
	}
}
