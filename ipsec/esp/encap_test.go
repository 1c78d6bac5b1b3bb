package esp

import (
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/tunnel"
)

// TestOuterTOSAndDF: DSCP is copied; ECN is copied (CE included) in
// RFC 6040 normal mode and cleared in compatibility mode; DF follows
// dfbit; TTL follows the option.
func TestOuterTOSAndDF(t *testing.T) {
	s := suiteByName(t, "aes-gcm-16", "null")
	p := NewProcessor(alg.NewGoEngine())
	for _, tos := range []uint8{0x00, 0x01, 0x02, 0x03, 0xb8, 0xbb, 0x2a} {
		for _, ecn := range []bool{false, true} {
			for _, outer6 := range []bool{false, true} {
				for _, inner6 := range []bool{false, true} {
					out, _ := pair(t, s, saOpts{tunnel: true, v6: outer6})
					in := udp4("10.0.0.1", "10.0.0.2", tos, true, 10)
					if inner6 {
						in = udp6("2001:db8::a", "2001:db8::b", tos, 10)
					}
					b := buf(t, in)
					if r := encap1(t, p, b, out, Options{ECN: ecn, TTL: 17}); r != stats.ReasonNone {
						t.Fatal(r)
					}
					want := tos
					if !ecn {
						want &^= 3
					}
					got := tunnel.TOS(b.Bytes())
					var ttl uint8
					if outer6 {
						ttl = hdr.IPv6(b.Bytes()).HopLimit()
					} else {
						ttl = hdr.IPv4(b.Bytes()).TTL()
					}
					if got != want || ttl != 17 {
						t.Fatalf("tos %#x ecn=%v: outer %#x ttl %d, want %#x ttl 17", tos, ecn, got, ttl, want)
					}
					b.Free()
				}
			}
		}
	}
	for _, c := range []struct {
		dfbit   int
		inDF    bool
		inner6  bool
		wantDF  bool
		comment string
	}{
		{0, true, false, false, "clear"},
		{1, false, false, true, "set"},
		{2, true, false, true, "copy set"},
		{2, false, false, false, "copy clear"},
		{2, false, true, false, "IPv6 inner has no DF"},
		{1, false, true, true, "set over IPv6 inner"},
	} {
		out, _ := pair(t, s, saOpts{tunnel: true})
		in := udp4("10.0.0.1", "10.0.0.2", 0, c.inDF, 10)
		if c.inner6 {
			in = udp6("2001:db8::a", "2001:db8::b", 0, 10)
		}
		b := buf(t, in)
		if r := encap1(t, p, b, out, Options{DFBit: c.dfbit}); r != stats.ReasonNone {
			t.Fatal(r)
		}
		ip := hdr.IPv4(b.Bytes())
		if ip.DF() != c.wantDF || ip.TTL() != DefaultTTL || !ip.ChecksumValid() {
			t.Fatalf("%s: DF %v TTL %d", c.comment, ip.DF(), ip.TTL())
		}
		b.Free()
	}
}

// TestDecapECN is RFC 6040 §4.2 over every outer x inner ECN pair, normal
// and compatibility mode, IPv4 and IPv6 inner packets.
func TestDecapECN(t *testing.T) {
	const N, E1, E0, CE = 0, 1, 2, 3
	// want[inner][outer], indexed by codepoint; -1 = drop.
	want := [4][4]int{
		N:  {N: N, E0: N, E1: N, CE: -1},
		E0: {N: E0, E0: E0, E1: E1, CE: CE},
		E1: {N: E1, E0: E1, E1: E1, CE: CE},
		CE: {N: CE, E0: CE, E1: CE, CE: CE},
	}
	s := suiteByName(t, "aes-gcm-16", "null")
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	for inner := range 4 {
		for outer := range 4 {
			for _, inner6 := range []bool{false, true} {
				for _, normal := range []bool{false, true} {
					out, in := pair(t, s, saOpts{tunnel: true, window: 64})
					dscp := uint8(0x28 << 2)
					clear := udp4("10.0.0.1", "10.0.0.2", dscp|uint8(inner), false, 10)
					if inner6 {
						clear = udp6("2001:db8::a", "2001:db8::b", dscp|uint8(inner), 10)
					}
					b := buf(t, clear)
					if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
						t.Fatal(r)
					}
					ip := hdr.IPv4(b.Bytes())
					ip.SetTOS(ip.TOS()&^3 | uint8(outer)) // set by the path, not authenticated
					ip.UpdateChecksum()
					b = wire(t, b)
					r := decap1(t, q, b, in, Options{ECN: normal})
					w := want[inner][outer]
					if !normal {
						w = inner
					}
					if w < 0 {
						if r != stats.ReasonBadTrailer {
							t.Fatalf("inner %d outer %d: %v, want drop", inner, outer, r)
						}
						b.Free()
						continue
					}
					if r != stats.ReasonNone {
						t.Fatalf("inner %d outer %d normal=%v: %v", inner, outer, normal, r)
					}
					got := tunnel.TOS(b.Bytes())
					if got != dscp|uint8(w) {
						t.Fatalf("inner %d outer %d normal=%v: tos %#x, want %#x", inner, outer, normal, got, dscp|uint8(w))
					}
					if !inner6 && !hdr.IPv4(b.Bytes()).ChecksumValid() {
						t.Fatal("inner checksum not fixed")
					}
					b.Free()
				}
			}
		}
	}
}

// TestNATTTransportChecksum: a NAT rewrote the outer source; after
// decapsulation the TCP and UDP checksums are valid for the addresses the
// packet now carries, and a zero UDP checksum stays zero.
func TestNATTTransportChecksum(t *testing.T) {
	s := suiteByName(t, "aes-gcm-16", "null")
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	nat := netip.MustParseAddr("203.0.113.99").As4()
	for _, kind := range []string{"tcp", "udp", "udp0"} {
		out, in := pair(t, s, saOpts{natt: true, window: 64})
		var clear []byte
		switch kind {
		case "tcp":
			clear = tcp4("10.0.0.1", "10.0.0.2", 33, false)
		default:
			clear = udp4("10.0.0.1", "10.0.0.2", 0, false, 33)
			if kind == "udp0" {
				hdr.UDP(clear[20:]).SetChecksum(0)
			}
		}
		b := buf(t, clear)
		if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
			t.Fatal(r)
		}
		ip := hdr.IPv4(b.Bytes())
		ip.SetSrc(nat)
		ip.UpdateChecksum()
		b = wire(t, b)
		if r := decap1(t, q, b, in, Options{}); r != stats.ReasonNone {
			t.Fatal(r)
		}
		data := b.Bytes()
		ip = hdr.IPv4(data)
		if ip.Src() != nat || !ip.ChecksumValid() || ip.Protocol() != clear[9] {
			t.Fatalf("%s: header %x", kind, data[:20])
		}
		l4 := data[20:]
		switch kind {
		case "udp0":
			if hdr.UDP(l4).Checksum() != 0 {
				t.Fatal("zero UDP checksum was filled in")
			}
		default:
			if hdr.Fold(hdr.Sum(l4, ip.PseudoSum(ip.Protocol(), len(l4)))) != 0xffff {
				t.Fatalf("%s checksum wrong after NAT-T decap", kind)
			}
		}
		if d := diff(l4[8:], clear[28:]); kind != "tcp" && d != "" {
			t.Fatal(d)
		}
		b.Free()
	}
}

// TestTFCPadding pads small tunnel payloads up to TFCPad; the receiver
// trims by the inner IP length.
func TestTFCPadding(t *testing.T) {
	for _, sn := range [][2]string{{"aes-gcm-16", "null"}, {"aes-cbc", "hmac-sha1"}} {
		s := suiteByName(t, sn[0], sn[1])
		out, in := pair(t, s, saOpts{tunnel: true, tfc: 300, window: 64})
		p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
		for _, n := range []int{1, 100, 400} {
			clear := udp4("10.0.0.1", "10.0.0.2", 0, false, n)
			b := buf(t, clear)
			if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
				t.Fatal(r)
			}
			text := b.Len() - 20 - 8 - out.Sess.IVLen() - out.Sess.ICVLen()
			if min := max(300, len(clear)) + 2; text < min || text >= min+16 {
				t.Fatalf("%d-byte packet: %d bytes encrypted, want %d+padding", len(clear), text, min)
			}
			b = wire(t, b)
			if r := decap1(t, q, b, in, Options{}); r != stats.ReasonNone {
				t.Fatal(r)
			}
			if d := diff(b.Bytes(), clear); d != "" {
				t.Fatal(d)
			}
			b.Free()
		}
	}
}

// TestEncapRejects covers the packets and SAs Encap refuses.
func TestEncapRejects(t *testing.T) {
	s := suiteByName(t, "aes-gcm-16", "null")
	p := NewProcessor(alg.NewGoEngine())
	tr, _ := pair(t, s, saOpts{})
	tun, _ := pair(t, s, saOpts{tunnel: true})
	dead, _ := pair(t, s, saOpts{tunnel: true})
	dead.SetState(sad.StateDead)
	frag := udp4("10.0.0.1", "10.0.0.2", 0, false, 10)
	hdr.IPv4(frag).SetFlagsFrag(hdr.IPv4FlagMF)
	hdr.IPv4(frag).UpdateChecksum()
	bad6 := withExt6(udp6("2001:db8::a", "2001:db8::b", 0, 10))
	bad6[41] = 200 // hop-by-hop length past the packet
	for _, c := range []struct {
		name string
		pkt  []byte
		sa   *sad.SA
		want stats.Reason
	}{
		{"nil SA", udp4("10.0.0.1", "10.0.0.2", 0, false, 1), nil, stats.ReasonNoSA},
		{"dead SA", udp4("10.0.0.1", "10.0.0.2", 0, false, 1), dead, stats.ReasonSAExpired},
		{"empty", nil, tun, stats.ReasonIPTruncated},
		{"version 5", []byte{0x50, 0, 0, 0}, tun, stats.ReasonIPBadVersion},
		{"short IPv4", udp4("10.0.0.1", "10.0.0.2", 0, false, 1)[:19], tun, stats.ReasonIPTruncated},
		{"IPv4 length past data", udp4("10.0.0.1", "10.0.0.2", 0, false, 10)[:30], tun, stats.ReasonIPTruncated},
		{"transport fragment", frag, tr, stats.ReasonIPFragment},
		{"transport bad IPv6 chain", bad6, tr, stats.ReasonIPv6BadExtHdr},
	} {
		b := testPool.Get()
		b.SetBytes(c.pkt)
		if r := encap1(t, p, b, c.sa, Options{}); r != c.want {
			t.Errorf("%s: %v, want %v", c.name, r, c.want)
		}
		b.Free()
	}
}

// TestEncapRoom: a buffer without headroom is shifted (Move); one too small
// for the result is refused with no-buffer.
func TestEncapRoom(t *testing.T) {
	s := suiteByName(t, "aes-cbc", "hmac-sha2-256")
	out, in := pair(t, s, saOpts{tunnel: true, v6: true, natt: true, window: 64})
	clear := udp4("10.0.0.1", "10.0.0.2", 0, false, 100)
	mem := make([]byte, 512)
	copy(mem, clear)
	b := pkt.Wrap(mem, 0, len(clear), 0, nil)
	if r := encap1(t, NewProcessor(alg.NewGoEngine()), b, out, Options{}); r != stats.ReasonNone {
		t.Fatalf("no headroom: %v", r)
	}
	w := buf(t, b.Bytes())
	if r := decap1(t, NewProcessor(alg.NewGoEngine()), w, in, Options{}); r != stats.ReasonNone {
		t.Fatalf("decap: %v", r)
	}
	if d := diff(w.Bytes(), clear); d != "" {
		t.Fatal(d)
	}
	w.Free()
	small := make([]byte, len(clear)+40)
	copy(small[40:], clear)
	b = pkt.Wrap(small, 40, len(clear), 0, nil)
	if r := encap1(t, NewProcessor(alg.NewGoEngine()), b, out, Options{}); r != stats.ReasonNoBuffer {
		t.Fatalf("too small: %v", r)
	}
	if d := diff(b.Bytes(), clear); d != "" {
		t.Fatalf("refused packet was changed: %s", d)
	}
}

// TestLifetimes: bytes and packets are charged per run and crossings are
// reported once.
func TestLifetimes(t *testing.T) {
	s := suiteByName(t, "aes-gcm-16", "null")
	cfgOut, _ := pair(t, s, saOpts{tunnel: true, window: 64})
	cfgOut.Soft = sad.Lifetime{Packets: 3}
	cfgOut.Hard = sad.Lifetime{Packets: 5}
	p := NewProcessor(alg.NewGoEngine())
	var events []Expiry
	send := func(n int) int {
		bufs := make([]*pkt.Buf, n)
		sas := make([]*sad.SA, n)
		for i := range bufs {
			bufs[i], sas[i] = buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, 72)), cfgOut
		}
		res := make([]stats.Reason, n)
		ok := p.Encap(bufs, sas, res, Options{})
		events = append(events, p.Expired()...)
		free(bufs...)
		return ok
	}
	if send(2) != 2 || len(events) != 0 {
		t.Fatal("early expiry")
	}
	if send(2) != 2 || len(events) != 1 || events[0].Expiry != sad.ExpireSoft {
		t.Fatalf("soft: %+v", events)
	}
	if send(1) != 1 || len(events) != 2 || events[1].Expiry != sad.ExpireHard {
		t.Fatalf("hard: %+v", events)
	}
	if send(1) != 0 {
		t.Fatal("dead SA still sends")
	}
	if c := cfgOut.Counters(); c.Bytes != 5*100 || c.Packets != 5 || c.Errors != 1 {
		t.Fatalf("counters %+v (bytes are the clear packets' length)", c)
	}
}
