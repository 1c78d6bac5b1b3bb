package ah

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// Options used in the round trips: record route (mutable), router alert
// (immutable), NOPs.
var v4opts = []byte{hdr.IPv4OptNOP, hdr.IPv4OptRR, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, hdr.IPv4OptNOP, hdr.IPv4OptNOP, hdr.IPv4OptNOP, hdr.IPv4OptEnd}

// hbh is a hop-by-hop header with a mutable option (type 0x3e) and an
// immutable one (router alert, 5); dst a destination-options header.
var (
	hbh = []byte{hdr.ProtoHopByHop, 0, 1, 0x3e, 2, 0xaa, 0xbb, 5, 2, 0, 0, 1, 0, 0, 0, 0, 0}
	dst = []byte{hdr.ProtoDstOpts, 0, 0, 0x3e, 4, 1, 2, 3, 4}
)

// TestRoundTrip runs every algorithm x mode x family (x ESN) through
// Encap and Decap and changes the mutable fields on the way.
func TestRoundTrip(t *testing.T) {
	for _, s := range allSuites() {
		for _, o := range []saOpts{{}, {tunnel: true}, {v6: true}, {v6: true, tunnel: true}, {esn: true, window: 64}, {v6: true, esn: true, tunnel: true, window: 64}} {
			t.Run(fmt.Sprintf("%s/%+v", s.name, o), func(t *testing.T) {
				out, in := pair(t, s, o)
				p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
				var clear []byte
				if o.v6 {
					clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0x2e, 301, hbh, dst)
				} else {
					clear = udp4("192.0.2.1", "198.51.100.2", 0x2e, 301, v4opts)
				}
				for k := range 3 {
					b := buf(t, clear)
					if r := encap1(t, p, b, out, defaults); r != stats.ReasonNone {
						t.Fatalf("encap: %v", r)
					}
					w := b.Bytes()
					ah := int(b.Meta.L4Off)
					if got := hdr.AH(w[ah:]).Len(); got != HeaderLen(out, w[0]>>4 == 6) || got%4 != 0 || (w[0]>>4 == 6 && got%8 != 0) {
						t.Fatalf("AH length %d", got)
					}
					mutate(w, ah)
					b = wire(t, b)
					if r := decap1(t, q, b, in, defaults); r != stats.ReasonNone {
						t.Fatalf("decap %d: %v", k, r)
					}
					got := b.Bytes()
					want := clear
					if !o.tunnel {
						want = expectTransport(clear, got)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("round trip differs:\n got %x\nwant %x", got, want)
					}
					st := b.Meta.Steps()
					if len(st) != 1 || st[0].Proto != hdr.ProtoAH || st[0].Tunnel != o.tunnel || st[0].SPI != in.SPI {
						t.Fatalf("history %+v", st)
					}
					b.Free()
				}
			})
		}
	}
}

// mutate changes what routers may change on the outermost header: TOS /
// traffic class, DF, TTL / hop limit, checksum, flow label, mutable options.
func mutate(w []byte, ah int) {
	if w[0]>>4 == 4 {
		ip := hdr.IPv4(w)
		ip.SetTOS(ip.TOS() ^ 0x03)
		ip.SetTTL(ip.TTL() - 7)
		ip.SetFlagsFrag(0)
		if ip.HeaderLen() > 20 && w[21] == hdr.IPv4OptRR {
			w[23] += 4 // record route: pointer and address
			copy(w[24:28], []byte{10, 9, 8, 7})
		}
		ip.UpdateChecksum()
		return
	}
	ip := hdr.IPv6(w)
	ip.SetVersionTCFlow(ip.TrafficClass()^0x01, 0xabcde)
	ip.SetHopLimit(ip.HopLimit() - 3)
	if ip.NextHeader() == hdr.ProtoHopByHop && ah > 40 {
		w[44], w[45] = 0x11, 0x22 // data of the mutable option 0x3e
	}
}

// expectTransport is the clear packet as it arrives after transport mode:
// the mutable fields as mutate left them (TTL, TOS, flags, options).
func expectTransport(clear, got []byte) []byte {
	want := append([]byte(nil), clear...)
	if want[0]>>4 == 4 {
		hl := int(want[0]&15) * 4
		copy(want[:hl], got[:hl])
		hdr.IPv4(want).SetTotalLen(len(want))
		return want
	}
	copy(want[:8], got[:8])
	copy(want[44:46], got[44:46]) // mutable option data in the hop-by-hop header
	return want
}

// TestImmutableChange flips each byte a router must not change and
// expects the ICV to fail.
func TestImmutableChange(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		out, in := pair(t, suiteByName(t, "hmac-sha2-256"), saOpts{v6: v6})
		p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
		var clear []byte
		var where []int
		if v6 {
			clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0, 40, hbh, dst)
			where = []int{8, 39, 42, 48, 70, 90}
		} else {
			clear = udp4("192.0.2.1", "198.51.100.2", 0, 40, v4opts)
			where = []int{4, 12, 19, 28, 30, 50, 70}
		}
		b := buf(t, clear)
		if r := encap1(t, p, b, out, defaults); r != stats.ReasonNone {
			t.Fatal(r)
		}
		w := append([]byte(nil), b.Bytes()...)
		b.Free()
		for _, at := range where {
			bad := append([]byte(nil), w...)
			bad[at] ^= 0x40
			if !v6 {
				hdr.IPv4(bad).UpdateChecksum()
			}
			bb := buf(t, bad)
			if r := decap1(t, q, bb, in, defaults); r != stats.ReasonBadICV {
				t.Errorf("v6=%v byte %d flipped: %v, want bad-icv", v6, at, r)
			}
			bb.Free()
		}
	}
}

// TestClearTOSKnob: with ah_cleartos=0 the TOS is covered by the ICV;
// with ah_offsetmask the masked DF bit is covered.
func TestClearTOSKnob(t *testing.T) {
	out, in := pair(t, suiteByName(t, "hmac-sha1"), saOpts{})
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	for _, c := range []struct {
		opt  Options
		edit func(ip hdr.IPv4)
		want stats.Reason
	}{
		{Options{ClearTOS: true}, func(ip hdr.IPv4) { ip.SetTOS(4) }, stats.ReasonNone},
		{Options{}, func(ip hdr.IPv4) { ip.SetTOS(4) }, stats.ReasonBadICV},
		{Options{ClearTOS: true, OffsetMask: hdr.IPv4FlagDF}, func(ip hdr.IPv4) { ip.SetFlagsFrag(0) }, stats.ReasonBadICV},
		{Options{ClearTOS: true, OffsetMask: hdr.IPv4FlagDF}, func(ip hdr.IPv4) { ip.SetTTL(1) }, stats.ReasonNone},
	} {
		b := buf(t, udp4("192.0.2.1", "198.51.100.2", 0, 20, nil))
		if r := encap1(t, p, b, out, c.opt); r != stats.ReasonNone {
			t.Fatal(r)
		}
		ip := hdr.IPv4(b.Bytes())
		c.edit(ip)
		ip.UpdateChecksum()
		if r := decap1(t, q, b, in, c.opt); r != c.want {
			t.Errorf("%+v: %v, want %v", c.opt, r, c.want)
		}
		b.Free()
	}
}

// TestReplay rejects a packet seen before, within and across bursts.
func TestReplay(t *testing.T) {
	out, in := pair(t, suiteByName(t, "aes-cmac"), saOpts{window: 32})
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	b := buf(t, udp4("192.0.2.1", "198.51.100.2", 0, 20, nil))
	if r := encap1(t, p, b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := append([]byte(nil), b.Bytes()...)
	b.Free()
	bufs := []*pkt.Buf{buf(t, w), buf(t, w)}
	res := make([]stats.Reason, 2)
	if n := q.Decap(bufs, sasOf(in, 2), res, defaults); n != 1 || res[0] != stats.ReasonNone || res[1] != stats.ReasonReplay {
		t.Fatalf("in-burst duplicate: %d %v", n, res)
	}
	free(bufs...)
	b = buf(t, w)
	if r := decap1(t, q, b, in, defaults); r != stats.ReasonReplay {
		t.Fatalf("replay: %v", r)
	}
	b.Free()
}

// TestBadLengths drops truncated packets and AH headers whose length is
// not the SA's.
func TestBadLengths(t *testing.T) {
	out, in := pair(t, suiteByName(t, "hmac-sha2-512"), saOpts{v6: true})
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	b := buf(t, udp6("2001:db8::1", "2001:db8:ffff::2", 0, 20))
	if r := encap1(t, p, b, out, defaults); r != stats.ReasonNone {
		t.Fatal(r)
	}
	w := append([]byte(nil), b.Bytes()...)
	b.Free()
	short := append([]byte(nil), w...)
	short[41]-- // AH payload length
	truncated := append([]byte(nil), w[:50]...)
	hdr.IPv6(truncated).SetPayloadLen(10)
	for _, c := range []struct {
		p    []byte
		want stats.Reason
	}{{short, stats.ReasonBadAHLength}, {truncated, stats.ReasonIPTruncated}, {w[:30], stats.ReasonIPTruncated}} {
		bb := buf(t, c.p)
		bb.Meta.L4Proto, bb.Meta.L4Off = hdr.ProtoAH, 40
		if r := decap1(t, q, bb, in, defaults); r != c.want {
			t.Errorf("%x: %v, want %v", c.p, r, c.want)
		}
		bb.Free()
	}
}

func sasOf[T any](x T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = x
	}
	return out
}

// TestMixedBurst: one burst with two SAs (runs), a tampered packet and an
// unknown SA; each packet gets its own verdict.
func TestMixedBurst(t *testing.T) {
	out1, in1 := pair(t, suiteByName(t, "hmac-sha1"), saOpts{spi: 0x501, window: 64})
	out2, in2 := pair(t, suiteByName(t, "aes-gmac-256"), saOpts{spi: 0x502, tunnel: true, v6: true, window: 64})
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	c4 := udp4("192.0.2.1", "198.51.100.2", 0, 60, nil)
	c6 := udp6("2001:db8:5::1", "2001:db8:6::2", 0, 60)
	bufs := []*pkt.Buf{buf(t, c4), buf(t, c4), buf(t, c6), buf(t, c6), buf(t, c4)}
	outs := []*sad.SA{out1, out1, out2, out2, nil}
	res := make([]stats.Reason, len(bufs))
	if n := p.Encap(bufs, outs, res, defaults); n != 4 || res[4] != stats.ReasonNoSA {
		t.Fatalf("encap %d %v", n, res)
	}
	bufs[1].Bytes()[len(bufs[1].Bytes())-1] ^= 1 // payload of the second packet
	ins := []*sad.SA{in1, in1, in2, in2, in1}
	bufs[4].Meta.L4Proto = hdr.ProtoAH // a clear packet claiming AH
	if n := q.Decap(bufs, ins, res, defaults); n != 3 {
		t.Fatalf("decap %d %v", n, res)
	}
	want := []stats.Reason{stats.ReasonNone, stats.ReasonBadICV, stats.ReasonNone, stats.ReasonNone, stats.ReasonBadAHLength}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("packet %d: %v, want %v", i, res[i], want[i])
		}
	}
	if !bytes.Equal(bufs[0].Bytes()[28:], c4[28:]) || !bytes.Equal(bufs[2].Bytes(), c6) {
		t.Error("decapsulated packets differ")
	}
	if in1.Counters().Errors == 0 {
		t.Error("no error counted on the SA")
	}
	free(bufs...)
}

// TestSeqWrap: without ESN the last numbers below 2^32 go out, the rest
// of the burst is dropped and the SA hard-expires.
func TestSeqWrap(t *testing.T) {
	out, _ := pair(t, suiteByName(t, "hmac-sha2-384"), saOpts{})
	if _, ok := out.ReserveSeq(1<<32 - 3); !ok {
		t.Fatal("reserve")
	}
	p := NewProcessor(alg.NewGoEngine())
	c := udp4("192.0.2.1", "198.51.100.2", 0, 10, nil)
	bufs := []*pkt.Buf{buf(t, c), buf(t, c), buf(t, c), buf(t, c)}
	res := make([]stats.Reason, 4)
	if n := p.Encap(bufs, sasOf(out, 4), res, defaults); n != 2 || res[2] != stats.ReasonSeqWrap || res[3] != stats.ReasonSeqWrap {
		t.Fatalf("%d %v", n, res)
	}
	if hdr.AH(bufs[1].Bytes()[20:]).Seq() != 1<<32-1 {
		t.Errorf("last sequence number %d", hdr.AH(bufs[1].Bytes()[20:]).Seq())
	}
	if len(p.Expired()) == 0 || p.Expired()[0].Expiry&sad.ExpireHard == 0 || out.Usable() {
		t.Errorf("no hard expiry: %+v", p.Expired())
	}
	free(bufs...)
}
