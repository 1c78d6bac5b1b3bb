package reasm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// expectOne feeds frags and checks that exactly the last one completes
// the datagram, which must equal want byte for byte.
func expectOne(t *testing.T, e *env, frags [][]byte, want []byte) *pkt.Buf {
	t.Helper()
	for i, f := range frags {
		b := e.add(f)
		e.bounds()
		if i < len(frags)-1 {
			if b != nil {
				t.Fatalf("fragment %d/%d completed early", i+1, len(frags))
			}
			continue
		}
		if b == nil {
			t.Fatalf("not reassembled after %d fragments (drops %v)", len(frags), e.drops)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("reassembled datagram differs:\n got %x\nwant %x", b.Bytes(), want)
		}
		return b
	}
	return nil
}

func TestReassembleOrders(t *testing.T) {
	r := newRand(1)
	for _, how := range []string{"in-order", "reverse", "random"} {
		for _, size := range []int{100, 1500, 3000, 9000, 65000} {
			t.Run(fmt.Sprintf("v4/%s/%d", how, size), func(t *testing.T) {
				e := newEnv(t, Config{})
				orig := dgram4(r, size, nil)
				out := expectOne(t, e, order(r, frag4(orig, 1480&^7), how), orig)
				if !hdr.IPv4(out.Bytes()).ChecksumValid() || IsFragment(out.Bytes()) {
					t.Fatal("bad header")
				}
				if out.Headroom() != pkt.Headroom {
					t.Fatalf("headroom %d", out.Headroom())
				}
				out.Free()
				e.finish()
			})
			t.Run(fmt.Sprintf("v6/%s/%d", how, size), func(t *testing.T) {
				e := newEnv(t, Config{})
				d := dgram6(r, size)
				out := expectOne(t, e, order(r, frag6(d, 7, 1232), how), d.p)
				out.Free()
				e.finish()
			})
		}
	}
}

func TestSmallUsesRxBufferLargeUsesOwnSet(t *testing.T) {
	r := newRand(2)
	e := newEnv(t, Config{})
	orig := dgram4(r, 1800, nil)
	out := expectOne(t, e, frag4(orig, 1000), orig)
	if out.Cap() != e.pool.BufSize() {
		t.Fatalf("small datagram in a %d-byte buffer", out.Cap())
	}
	out.Free()
	orig = dgram4(r, 3000, nil)
	out = expectOne(t, e, frag4(orig, 1000), orig)
	if out.Cap() <= e.pool.BufSize() || e.tab.large.available() != DefaultLargeBufs-1 {
		t.Fatalf("large datagram in a %d-byte buffer", out.Cap())
	}
	// Freed through a cache like any packet, it goes home at once.
	e.cache.Put(out)
	e.finish()
}

func TestDuplicates(t *testing.T) {
	r := newRand(3)
	e := newEnv(t, Config{})
	orig := dgram4(r, 4000, nil)
	fr := frag4(orig, 1000)
	seq := [][]byte{fr[0], fr[0], fr[2], fr[1], fr[2], fr[3]}
	out := expectOne(t, e, seq, orig)
	out.Free()
	if c := e.tab.Counters(); c.Duplicates != 2 || c.Overlaps != 0 || e.drops[stats.ReasonIPFragment] != 2 {
		t.Fatalf("counters %+v drops %v", c, e.drops)
	}

	// Same range, other bytes: an overlap in disguise, the datagram goes.
	d := dgram6(r, 3000)
	f6 := frag6(d, 9, 1232)
	evil := append([]byte(nil), f6[1]...)
	evil[len(evil)-1] ^= 0xff
	if e.add(f6[0]) != nil || e.add(f6[1]) != nil || e.add(evil) != nil {
		t.Fatal("completed")
	}
	if e.tab.Len() != 0 || e.tab.Counters().Overlaps != 1 {
		t.Fatalf("len %d counters %+v", e.tab.Len(), e.tab.Counters())
	}
	// The remaining fragment starts a new datagram that cannot complete.
	if e.add(f6[2]) != nil {
		t.Fatal("completed without its head")
	}
	e.finish()
}

func TestOverlapsDropDatagram(t *testing.T) {
	r := newRand(4)
	cases := []struct {
		name   string
		ranges [][3]int // off, end, more
	}{
		{"tail-overlaps-next", [][3]int{{0, 16, 1}, {8, 24, 1}, {24, 40, 0}}},
		{"inside", [][3]int{{0, 32, 1}, {8, 16, 1}, {32, 40, 0}}},
		{"covers", [][3]int{{8, 16, 1}, {0, 32, 1}, {32, 40, 0}}},
		{"same-start-longer", [][3]int{{0, 16, 1}, {0, 24, 1}, {24, 40, 0}}},
		{"teardrop", [][3]int{{0, 24, 1}, {16, 20, 0}}},
	}
	for _, c := range cases {
		for _, fam := range []int{4, 6} {
			t.Run(fmt.Sprintf("v%d/%s", fam, c.name), func(t *testing.T) {
				e := newEnv(t, Config{})
				orig := dgram4(r, 40, nil)
				d := dgram6(r, 40)
				var got *pkt.Buf
				for _, rg := range c.ranges {
					var f []byte
					if fam == 4 {
						f = piece4(orig, rg[0], rg[1], rg[2] == 1)
					} else {
						f = piece6(d, 5, rg[0], rg[1], rg[2] == 1, false)
					}
					if b := e.add(f); b != nil {
						got = b
					}
				}
				if got != nil {
					t.Fatal("overlapping datagram reassembled")
				}
				// The overlapping (second) fragment takes the first with it;
				// a later one starts a datagram that can never complete.
				if e.tab.Len() != len(c.ranges)-2 || e.dropped() != 2 || e.drops[stats.ReasonIPFragment] != 2 ||
					e.tab.Counters().Overlaps+e.tab.Counters().Malformed != 1 {
					t.Fatalf("len %d drops %v counters %+v", e.tab.Len(), e.drops, e.tab.Counters())
				}
				e.finish()
			})
		}
	}
}

func TestMalformed(t *testing.T) {
	r := newRand(5)
	orig := dgram4(r, 64, nil)
	d := dgram6(r, 64)
	cases := []struct {
		name  string
		frags [][]byte
	}{
		{"v4-odd-middle", [][]byte{piece4(orig, 0, 12, true)}},
		{"v6-odd-middle", [][]byte{piece6(d, 1, 0, 12, true, false)}},
		{"v4-empty", [][]byte{piece4(orig, 8, 8, true)}},
		{"v4-two-lasts", [][]byte{piece4(orig, 32, 48, false), piece4(orig, 48, 64, false)}},
		{"v6-past-last", [][]byte{piece6(d, 1, 0, 16, false, false)[:0:0], piece6(d, 1, 32, 48, false, false), piece6(d, 1, 48, 64, true, false)}},
		{"v4-more-at-end", [][]byte{piece4(orig, 48, 64, false), piece4(orig, 40, 64, true)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			n := 0
			for _, f := range c.frags {
				if len(f) == 0 {
					continue
				}
				n++
				if e.add(f) != nil {
					t.Fatal("reassembled")
				}
			}
			if e.tab.Len() != 0 || e.drops[stats.ReasonIPFragment] != n {
				t.Fatalf("len %d drops %v", e.tab.Len(), e.drops)
			}
			e.finish()
		})
	}
}

func TestMissingFragmentExpires(t *testing.T) {
	r := newRand(6)
	e := newEnv(t, Config{Timeout: time.Second})
	orig := dgram4(r, 3000, nil)
	fr := frag4(orig, 1000)
	e.feed([][]byte{fr[0], fr[2]})
	if e.tab.Len() != 1 || e.tab.Bytes() != 2*e.pool.BufSize() {
		t.Fatalf("len %d bytes %d", e.tab.Len(), e.tab.Bytes())
	}
	if n := e.tab.Expire(e.now+int64(time.Second)-1, e.drop); n != 0 {
		t.Fatalf("expired %d early", n)
	}
	if n := e.tab.Expire(e.now+int64(time.Second), e.drop); n != 1 {
		t.Fatalf("expired %d", n)
	}
	if e.tab.Len() != 0 || e.tab.Bytes() != 0 || e.drops[stats.ReasonIPFragment] != 2 || e.tab.Counters().TimedOut != 1 {
		t.Fatalf("after expiry: len %d bytes %d drops %v", e.tab.Len(), e.tab.Bytes(), e.drops)
	}
	// A late fragment starts over; Add also expires lazily.
	e.add(fr[1])
	e.now += 2 * int64(time.Second)
	e.add(fr[0])
	if e.tab.Len() != 1 || e.tab.Counters().TimedOut != 2 {
		t.Fatalf("lazy expiry: len %d counters %+v", e.tab.Len(), e.tab.Counters())
	}
	e.finish()
}

func TestTooManyFragments(t *testing.T) {
	r := newRand(7)
	e := newEnv(t, Config{MaxFrags: 4})
	orig := dgram4(r, 600, nil)
	fr := frag4(orig, 120) // 5 fragments
	if len(e.feed(fr)) != 0 || e.tab.Len() != 0 || e.drops[stats.ReasonIPFragment] != 5 || e.tab.Counters().TooMany != 1 {
		t.Fatalf("len %d drops %v counters %+v", e.tab.Len(), e.drops, e.tab.Counters())
	}
	// Four fragments are fine.
	out := expectOne(t, e, frag4(orig, 160), orig)
	out.Free()
	e.finish()
}

func TestTooLarge(t *testing.T) {
	r := newRand(8)
	e := newEnv(t, Config{MaxSize: 2000})
	orig := dgram4(r, 3000, nil)
	fr := frag4(orig, 1000)
	if len(e.feed(fr)) != 0 || e.tab.Len() != 0 || e.dropped() != 3 {
		t.Fatalf("len %d drops %v", e.tab.Len(), e.drops)
	}
	// A first fragment arriving last, whose long header pushes it over.
	ok := dgram4(r, 1976, nil)
	out := expectOne(t, e, frag4(ok, 1000), ok)
	out.Free()
	opts := bytes.Repeat([]byte{hdr.IPv4OptNOP}, 40)
	big := dgram4(r, 1976, opts)
	fr = frag4(big, 1000)
	if len(e.feed([][]byte{fr[1], fr[0]})) != 0 || e.tab.Len() != 0 {
		t.Fatal("oversized datagram kept")
	}

	// Ping of death: offset + length past 65535.
	e2 := newEnv(t, Config{})
	f := piece4(dgram4(r, 1000, nil), 0, 1000, false)
	ip := hdr.IPv4(f)
	ip.SetFlagsFrag(uint16((65535 - 500) / 8))
	ip.UpdateChecksum()
	if e2.add(f) != nil || e2.drops[stats.ReasonIPFragment] != 1 || e2.tab.Counters().TooBig != 1 {
		t.Fatalf("ping of death: drops %v", e2.drops)
	}
	// IPv6 payload past 65535.
	d := dgram6(r, 1000)
	f = piece6(d, 1, 0, 16, false, false)
	binary.BigEndian.PutUint16(f[42:], 65520) // 65520+16 > 65535
	if e2.add(f) != nil || e2.tab.Counters().TooBig != 2 {
		t.Fatalf("v6 oversize: drops %v", e2.drops)
	}
	e.finish()
	e2.finish()
}

func TestMaxSizeDatagrams(t *testing.T) {
	r := newRand(9)
	e := newEnv(t, Config{})
	orig := dgram4(r, 65535-20, nil)
	out := expectOne(t, e, order(r, frag4(orig, 1480), "random"), orig)
	out.Free()
	d := dgram6(r, 65535)
	out = expectOne(t, e, order(r, frag6(d, 3, 1448), "random"), d.p)
	if len(out.Bytes()) != 65535+40 {
		t.Fatal(len(out.Bytes()))
	}
	out.Free()
	e.finish()
}

func TestIPv4Options(t *testing.T) {
	r := newRand(10)
	e := newEnv(t, Config{})
	// Router Alert (148, copied) + Record Route (7, not copied) + End.
	opts := []byte{148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0}
	orig := dgram4(r, 2500, opts)
	fr := frag4(orig, 800)
	if hdr.IPv4(fr[1]).HeaderLen() != 24 || hdr.IPv4(fr[0]).HeaderLen() != 32 {
		t.Fatalf("fragmenter: header lengths %d %d", hdr.IPv4(fr[0]).HeaderLen(), hdr.IPv4(fr[1]).HeaderLen())
	}
	for _, how := range []string{"in-order", "reverse", "random"} {
		out := expectOne(t, e, order(r, fr, how), orig)
		out.Free()
	}
	// Later fragments with options the first lacks: the first's header wins.
	plain := dgram4(r, 2500, nil)
	fr = frag4(plain, 800)
	for i := 1; i < len(fr); i++ {
		hl := hdr.IPv4(fr[i]).HeaderLen()
		f := append(append(append([]byte{}, fr[i][:hl]...), 148, 4, 0, 0), fr[i][hl:]...)
		ip := hdr.IPv4(f)
		ip.SetVersionIHL(hl + 4)
		ip.SetTotalLen(len(f))
		ip.UpdateChecksum()
		fr[i] = f
	}
	out := expectOne(t, e, order(r, fr, "reverse"), plain)
	out.Free()
	e.finish()
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	r := newRand(11)
	e := newEnv(t, Config{})
	d := dgram6(r, 5000, ext6{hdr.ProtoHopByHop, 8}, ext6{hdr.ProtoDstOpts, 16}, ext6{hdr.ProtoRouting, 24})
	fr := frag6(d, 0xdeadbeef, 1200)
	if c, ok := hdr.IPv6(fr[0]).Walk(len(fr[0])); !ok || c.Frag != d.unf {
		t.Fatalf("fragmenter: frag at %d, want %d", c.Frag, d.unf)
	}
	for _, how := range []string{"in-order", "reverse", "random"} {
		out := expectOne(t, e, order(r, fr, how), d.p)
		out.Free()
	}
	// Non-first fragments with a shorter unfragmentable part.
	var mixed [][]byte
	n := len(d.p) - d.unf
	for off := 0; off < n; off += 1200 {
		end := min(off+1200, n)
		mixed = append(mixed, piece6(d, 0xdeadbeef, off, end, end < n, off > 0))
	}
	out := expectOne(t, e, order(r, mixed, "random"), d.p)
	out.Free()
	// And the other way round: the first is bare, the rest carry headers.
	bare := dgram6(r, 3000)
	long := v6{p: append(append([]byte{}, bare.p[:40]...), make([]byte, 8)...), unf: 48, nextOff: 40}
	long.p[6], long.p[40], long.p[41] = hdr.ProtoHopByHop, 0, 0
	long.p[42], long.p[43] = 1, 4
	long.p = append(long.p, bare.p[40:]...)
	long.p[40] = bare.p[6]
	var mixed2 [][]byte
	for off := 0; off < 3000; off += 1024 {
		end := min(off+1024, 3000)
		if off == 0 {
			mixed2 = append(mixed2, piece6(bare, 1, off, end, true, false))
		} else {
			mixed2 = append(mixed2, piece6(long, 1, off, end, end < 3000, false))
		}
	}
	out = expectOne(t, e, order(r, mixed2, "reverse"), bare.p)
	out.Free()
	e.finish()
}

func TestRFC7112FirstFragmentHoldsChain(t *testing.T) {
	r := newRand(12)
	e := newEnv(t, Config{})
	// The fragmentable part starts with a 24-byte destination options
	// header; a first fragment of 16 bytes cuts it.
	d := dgram6(r, 100)
	p := d.p
	p[6] = hdr.ProtoDstOpts
	p[40], p[41] = hdr.ProtoESP, 2 // 24 bytes
	p[42], p[43] = 1, 20
	clear(p[44:64])
	first := piece6(d, 4, 0, 16, true, false)
	if e.add(first) != nil || e.drops[stats.ReasonIPFragment] != 1 {
		t.Fatalf("truncated chain accepted: drops %v", e.drops)
	}
	// The ESP header itself cut short (4 of 8 bytes): 8-byte fragment.
	d = dgram6(r, 100, ext6{hdr.ProtoDstOpts, 8})
	d.nextOff = 40
	// Treat the dst opts as fragmentable: per-fragment headers are the fixed header.
	d2 := v6{p: d.p, unf: 40, nextOff: 6}
	first = piece6(d2, 5, 0, 8, true, false) // dstopts 8 bytes, no room for ESP
	if e.add(first) != nil || e.drops[stats.ReasonIPFragment] != 2 {
		t.Fatalf("missing upper-layer header accepted: drops %v", e.drops)
	}
	// With the whole chain it goes in.
	first = piece6(d2, 5, 0, 16, true, false)
	if e.add(first) != nil || e.tab.Len() != 1 {
		t.Fatalf("good first fragment refused: drops %v", e.drops)
	}
	e.finish()
}

func TestAtomicFragments(t *testing.T) {
	r := newRand(13)
	e := newEnv(t, Config{})
	d := dgram6(r, 300, ext6{hdr.ProtoHopByHop, 8}, ext6{hdr.ProtoRouting, 24})
	// A datagram with the same ID in progress is not disturbed (RFC 6946).
	big := dgram6(r, 3000, ext6{hdr.ProtoHopByHop, 8}, ext6{hdr.ProtoRouting, 24})
	fr := frag6(big, 77, 1232)
	e.add(fr[0])
	at := piece6(d, 77, 0, 300, false, false)
	b := e.add(at)
	if b == nil || !bytes.Equal(b.Bytes(), d.p) || IsFragment(b.Bytes()) {
		t.Fatalf("atomic fragment: %v", b != nil)
	}
	if b.Headroom() != pkt.Headroom+8 {
		t.Fatalf("stripped in place: headroom %d", b.Headroom())
	}
	b.Free()
	out := expectOne(t, e, fr[1:], big.p)
	out.Free()
	if c := e.tab.Counters(); c.Atomic != 1 || c.Reassembled != 1 {
		t.Fatalf("counters %+v", c)
	}
	e.finish()
}

func TestNotFragmentsPassThrough(t *testing.T) {
	r := newRand(14)
	e := newEnv(t, Config{})
	orig := dgram4(r, 100, nil)
	d := dgram6(r, 100, ext6{hdr.ProtoHopByHop, 8})
	for _, p := range [][]byte{orig, d.p} {
		if IsFragment(p) {
			t.Fatal("IsFragment on a whole packet")
		}
		b := e.add(p)
		if b == nil || !bytes.Equal(b.Bytes(), p) {
			t.Fatal("whole packet not passed through")
		}
		b.Free()
	}
	for _, f := range [][]byte{piece4(orig, 0, 48, true), piece4(orig, 48, 100, false), piece6(d, 1, 8, 16, true, false), piece6(d, 1, 0, 100, false, false)} {
		if !IsFragment(f) {
			t.Fatalf("IsFragment missed %x", f[:48])
		}
	}
	for _, p := range [][]byte{nil, {0x45}, {0x60, 0}, {0x10}} {
		if IsFragment(p) {
			t.Fatalf("IsFragment(%x)", p)
		}
	}
	e.finish()
}

func TestECN(t *testing.T) {
	r := newRand(15)
	e := newEnv(t, Config{})
	orig := dgram4(r, 2000, nil)
	setTOS := func(f []byte, tos uint8) []byte {
		f = append([]byte(nil), f...)
		hdr.IPv4(f).SetTOS(tos)
		hdr.IPv4(f).UpdateChecksum()
		return f
	}
	fr := frag4(orig, 1000)
	// Not-ECT mixed with ECT(0): dropped.
	if len(e.feed([][]byte{fr[0], setTOS(fr[1], 2)})) != 0 || e.tab.Counters().Malformed != 1 || e.tab.Len() != 0 {
		t.Fatalf("mixed ECN: %+v", e.tab.Counters())
	}
	// ECT(0) and CE: CE in the result.
	out := e.feed([][]byte{setTOS(fr[0], 2), setTOS(fr[1], 3)})
	if len(out) != 1 || hdr.IPv4(out[0].Bytes()).TOS() != 3 || !hdr.IPv4(out[0].Bytes()).ChecksumValid() {
		t.Fatalf("CE not carried: %v", out)
	}
	out[0].Free()
	e.finish()
}

func TestInterleaved100(t *testing.T) {
	r := newRand(16)
	e := newEnv(t, Config{LargeBufs: 100}) // all outputs are held till the end
	want := map[string]bool{}
	var all [][]byte
	for i := range 100 {
		var fr [][]byte
		var p []byte
		if i%2 == 0 {
			p = dgram4(r, 500+r.IntN(6000), nil)
			hdr.IPv4(p).SetID(uint16(i))
			hdr.IPv4(p).UpdateChecksum()
			fr = frag4(p, 8*(60+r.IntN(120)))
		} else {
			d := dgram6(r, 500+r.IntN(6000), ext6{hdr.ProtoHopByHop, 8})
			p = d.p
			fr = frag6(d, uint32(i), 8*(60+r.IntN(120)))
		}
		want[string(p)] = true
		all = append(all, fr...)
	}
	all = order(r, all, "random")
	out := e.feed(all)
	if len(out) != 100 || e.dropped() != 0 {
		t.Fatalf("%d of 100 reassembled, drops %v", len(out), e.drops)
	}
	for _, b := range out {
		if !want[string(b.Bytes())] {
			t.Fatalf("unexpected datagram %x", b.Bytes()[:40])
		}
		delete(want, string(b.Bytes()))
		b.Free()
	}
	e.finish()
}

func TestMaxPacketsEvictsOldest(t *testing.T) {
	r := newRand(17)
	e := newEnv(t, Config{MaxPackets: 4})
	var heads, tails [][]byte
	for range 5 {
		orig := dgram4(r, 2000, nil)
		fr := frag4(orig, 1000)
		heads, tails = append(heads, fr[0]), append(tails, fr[1])
		e.add(fr[0])
		e.now++
		e.bounds()
	}
	if e.tab.Len() != 4 || e.tab.Counters().Evicted != 1 || e.drops[stats.ReasonNoBuffer] != 1 {
		t.Fatalf("len %d counters %+v drops %v", e.tab.Len(), e.tab.Counters(), e.drops)
	}
	// The first (oldest) is gone; the others complete.
	if e.add(tails[0]) != nil {
		t.Fatal("evicted datagram completed")
	}
	e.now++
	for i := 2; i < 5; i++ {
		b := e.add(tails[i])
		if b == nil {
			t.Fatalf("datagram %d lost", i)
		}
		b.Free()
	}
	e.finish()
}

func TestMaxBytesBound(t *testing.T) {
	r := newRand(18)
	e := newEnv(t, Config{MaxBytes: 20 * pkt.DefaultSize})
	// Many incomplete datagrams: memory never goes over, the oldest go.
	for range 50 {
		orig := dgram4(r, 4000, nil)
		fr := frag4(orig, 1000)
		e.feed(fr[:3]) // 3 of 4
		e.now++
	}
	if e.tab.Bytes() > 20*pkt.DefaultSize || e.tab.Counters().Evicted == 0 {
		t.Fatalf("bytes %d counters %+v", e.tab.Bytes(), e.tab.Counters())
	}
	// A fresh datagram still completes under pressure.
	orig := dgram4(r, 4000, nil)
	out := expectOne(t, e, frag4(orig, 1000), orig)
	out.Free()
	// A datagram bigger than the whole budget is dropped, not kept.
	e2 := newEnv(t, Config{MaxBytes: 2 * pkt.DefaultSize})
	orig = dgram4(r, 4000, nil)
	if len(e2.feed(frag4(orig, 1000))) != 0 || e2.tab.Len() > 1 || e2.drops[stats.ReasonNoBuffer] == 0 {
		t.Fatalf("len %d drops %v", e2.tab.Len(), e2.drops)
	}
	e.finish()
	e2.finish()
}

func TestLargeBuffersExhausted(t *testing.T) {
	r := newRand(19)
	e := newEnv(t, Config{LargeBufs: 1})
	a, b := dgram4(r, 5000, nil), dgram4(r, 5000, nil)
	outA := expectOne(t, e, frag4(a, 1480), a)
	if len(e.feed(frag4(b, 1480))) != 0 || e.tab.Counters().NoBuffer != 1 || e.drops[stats.ReasonNoBuffer] != 4 {
		t.Fatalf("counters %+v drops %v", e.tab.Counters(), e.drops)
	}
	outA.Free()
	outB := expectOne(t, e, frag4(b, 1480), b)
	outB.Free()
	e.finish()
}

func TestConfigDefaults(t *testing.T) {
	c := New(Config{}, nil).Config()
	if c.MaxPackets != 1024 || c.MaxFrags != 64 || c.MaxBytes != 4<<20 || c.Timeout != 3*time.Second || c.MaxSize != 65575 || c.LargeBufs != 64 {
		t.Fatalf("defaults %+v", c)
	}
	c = New(Config{MaxFrags: 1 << 20, MaxSize: 1 << 20}, nil).Config()
	if c.MaxFrags != maxFragsLimit || c.MaxSize != MaxSizeLimit {
		t.Fatalf("clamps %+v", c)
	}
}

func TestNoCache(t *testing.T) {
	r := newRand(20)
	pool := pkt.NewPool("rx", 16, 0)
	tab := New(Config{LargeBufs: 1}, nil)
	orig := dgram4(r, 1500, nil)
	var out *pkt.Buf
	for _, f := range frag4(orig, 800) {
		b := pool.Get()
		b.SetBytes(f)
		out = tab.Add(b, 0, func(b *pkt.Buf, _ stats.Reason) { b.Free() })
	}
	if out == nil || !bytes.Equal(out.Bytes(), orig) {
		t.Fatal("no reassembly without a cache")
	}
	out.Free()
	if pool.Available() != 16 || tab.large.available() != 1 {
		t.Fatal("leak")
	}
}

func TestZeroAllocs(t *testing.T) {
	r := newRand(21)
	e := newEnv(t, Config{})
	orig := dgram4(r, 3000-20, nil)
	d := dgram6(r, 3000-40)
	var frags [3]*pkt.Buf
	id := uint16(0)
	run := func() {
		// Fragment into buffers, as a sender's egress would, then reassemble.
		id++
		hdr.IPv4(orig).SetID(id)
		for i := range frags {
			off, end := i*1000, min((i+1)*1000, 2980)
			b := e.cache.Get()
			p := b.Append(20 + end - off)
			copy(p, orig[:20])
			copy(p[20:], orig[20+off:20+end])
			f := hdr.IPv4(p)
			f.SetTotalLen(len(p))
			ff := uint16(off / 8)
			if end < 2980 {
				ff |= hdr.IPv4FlagMF
			}
			f.SetFlagsFrag(ff)
			f.UpdateChecksum()
			frags[i] = b
		}
		var out *pkt.Buf
		for i := len(frags) - 1; i >= 0; i-- {
			out = e.tab.Add(frags[i], e.now, e.drop)
		}
		if out == nil {
			t.Fatal("not reassembled")
		}
		e.cache.Put(out)
		// And an IPv6 one.
		for i := range frags {
			off, end := i*1000, min((i+1)*1000, 2960)
			b := e.cache.Get()
			p := b.Append(48 + end - off)
			copy(p, d.p[:40])
			p[6] = hdr.ProtoFragment
			p[40], p[41] = hdr.ProtoESP, 0
			w := uint16(off)
			if end < 2960 {
				w |= 1
			}
			p[42], p[43] = byte(w>>8), byte(w)
			p[44], p[45], p[46], p[47] = 0, 0, byte(id>>8), byte(id)
			copy(p[48:], d.p[40+off:40+end])
			hdr.IPv6(p).SetPayloadLen(len(p) - 40)
			frags[i] = b
		}
		for i := range frags {
			out = e.tab.Add(frags[i], e.now, e.drop)
		}
		if out == nil {
			t.Fatal("v6 not reassembled")
		}
		e.cache.Put(out)
	}
	for range 100 {
		run()
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("%v allocations per fragment+reassemble", n)
	}
	e.finish()
}
