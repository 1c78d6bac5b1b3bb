package esp

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// tamperEngine lets a test change the plaintext (payload, padding,
// trailer) before it is sealed, so the damage carries a valid ICV.
type tamperEngine struct {
	alg.Engine
	fn func(op *alg.Op)
}

func (e *tamperEngine) Seal(ops []alg.Op) {
	for i := range ops {
		e.fn(&ops[i])
	}
	e.Engine.Seal(ops)
}

// trailerOf returns the authenticated plaintext of an op (payload to next
// header), whichever of Text or AAD holds it.
func trailerOf(op *alg.Op) []byte {
	if len(op.Text) > 0 {
		return op.Text
	}
	return op.AAD // GMAC: the trailer ends the AAD
}

// sealed encapsulates a 30-byte UDP packet with sa through a tampering
// engine and returns the wire buffer.
func sealed(t *testing.T, sa *sad.SA, fn func(op *alg.Op)) *pkt.Buf {
	t.Helper()
	p := NewProcessor(&tamperEngine{Engine: alg.NewGoEngine(), fn: fn})
	b := buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, 30))
	if r := encap1(t, p, b, sa, Options{}); r != stats.ReasonNone {
		t.Fatalf("encap: %v", r)
	}
	return wire(t, b)
}

var trailerSuites = [][2]string{
	{"aes-gcm-16", "null"}, {"aes-cbc", "hmac-sha1"}, {"aes-gmac", "null"}, {"null", "hmac-sha2-256"}, {"chacha20-poly1305", "null"},
}

// TestTrailerChecks damages the padding and trailer under a valid ICV.
func TestTrailerChecks(t *testing.T) {
	cases := []struct {
		name string
		fn   func(tr []byte)
		want stats.Reason
	}{
		{"wrong pad byte", func(tr []byte) {
			if tr[len(tr)-2] == 0 { // no padding: claim one byte of it
				tr[len(tr)-2] = 1
			}
			tr[len(tr)-3] ^= 0x40
		}, stats.ReasonBadPadding},
		{"pad length past payload", func(tr []byte) { tr[len(tr)-2] = 255 }, stats.ReasonBadESPLength},
		{"dummy packet", func(tr []byte) { tr[len(tr)-1] = hdr.ProtoNoNext }, stats.ReasonDummy},
		{"tunnel next header not IP", func(tr []byte) { tr[len(tr)-1] = hdr.ProtoUDP }, stats.ReasonBadTrailer},
		{"inner version mismatch", func(tr []byte) { tr[len(tr)-1] = hdr.ProtoIPv6 }, stats.ReasonBadTrailer},
	}
	for _, sn := range trailerSuites {
		s := suiteByName(t, sn[0], sn[1])
		for _, c := range cases {
			t.Run(s.String()+"/"+c.name, func(t *testing.T) {
				out, in := pair(t, s, saOpts{tunnel: true, window: 64})
				b := sealed(t, out, func(op *alg.Op) { c.fn(trailerOf(op)) })
				if r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{}); r != c.want {
					t.Fatalf("got %v, want %v", r, c.want)
				}
				wantErr := uint64(1)
				if c.want == stats.ReasonDummy {
					wantErr = 0 // valid traffic, absorbed
				}
				if e := in.Counters().Errors; e != wantErr {
					t.Fatalf("errors %d, want %d", e, wantErr)
				}
				b.Free()
			})
		}
	}
}

// TestBadICV flips each region's bytes and expects bad-icv, with the replay
// window left alone (the genuine packet still gets through afterwards).
func TestBadICV(t *testing.T) {
	for _, sn := range trailerSuites {
		s := suiteByName(t, sn[0], sn[1])
		t.Run(s.String(), func(t *testing.T) {
			out, in := pair(t, s, saOpts{tunnel: true, window: 64, esn: true})
			good := sealed(t, out, func(*alg.Op) {})
			data := good.Bytes()
			esp := int(good.Meta.L4Off)
			for _, off := range []int{esp + 4, esp + 8, esp + 8 + in.Sess.IVLen(), len(data) - 1} {
				b := buf(t, data)
				b.Bytes()[off] ^= 1 // sequence number, IV, ciphertext, ICV
				if r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{}); r != stats.ReasonBadICV {
					t.Fatalf("flip at %d: %v", off-esp, r)
				}
				b.Free()
			}
			if r := decap1(t, NewProcessor(alg.NewGoEngine()), good, in, Options{}); r != stats.ReasonNone {
				t.Fatalf("genuine packet after forgeries: %v", r)
			}
			good.Free()
		})
	}
}

// TestCBCLength: ciphertext that is not whole blocks is refused before
// any crypto.
func TestCBCLength(t *testing.T) {
	out, in := pair(t, suiteByName(t, "aes-cbc", "hmac-sha1"), saOpts{window: 64})
	b := sealed(t, out, func(*alg.Op) {})
	data := append([]byte(nil), b.Bytes()...)
	b.Free()
	// Drop 4 bytes of ciphertext before the ICV, keeping IP lengths right.
	icv := 12
	cut := append(append([]byte(nil), data[:len(data)-icv-4]...), data[len(data)-icv:]...)
	hdr.IPv4(cut).SetTotalLen(len(cut))
	hdr.IPv4(cut).SetChecksum(0)
	hdr.IPv4(cut).UpdateChecksum()
	b = buf(t, cut)
	if r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{}); r != stats.ReasonBadESPLength {
		t.Fatalf("got %v", r)
	}
	b.Free()
}

// TestTruncated feeds every ESP length from 0 to the minimum plus one,
// with consistent IP lengths, over IPv4 and NAT-T, and short IP packets.
func TestTruncated(t *testing.T) {
	for _, sn := range trailerSuites {
		for _, natt := range []bool{false, true} {
			s := suiteByName(t, sn[0], sn[1])
			out, in := pair(t, s, saOpts{tunnel: true, window: 64, natt: natt})
			b := sealed(t, out, func(*alg.Op) {})
			data := append([]byte(nil), b.Bytes()...)
			b.Free()
			l4 := 20
			if natt {
				l4 = 28
			}
			min := 8 + in.Sess.IVLen() + in.Sess.ICVLen() + 2
			for k := 0; k <= min+1; k++ {
				p := append([]byte(nil), data[:l4+k]...)
				ip := hdr.IPv4(p)
				ip.SetTotalLen(len(p))
				ip.SetChecksum(0)
				ip.UpdateChecksum()
				if natt {
					hdr.UDP(p[20:]).SetLength(len(p) - 20)
				}
				b := buf(t, p)
				r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{})
				switch r {
				case stats.ReasonBadESPLength, stats.ReasonIPTruncated, stats.ReasonBadICV, stats.ReasonBadPadding:
				default:
					t.Fatalf("%s natt=%v: %d ESP bytes: %v", s, natt, k, r)
				}
				b.Free()
			}
			// Short and inconsistent IP packets.
			for k := 0; k < l4+8; k++ {
				b := testPool.Get()
				b.SetBytes(data[:k])
				b.Meta.L4Proto, b.Meta.L4Off = hdr.ProtoESP, 20
				if natt {
					b.Meta.L4Proto = hdr.ProtoUDP
				}
				if r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{}); r == stats.ReasonNone {
					t.Fatalf("%d IP bytes accepted", k)
				}
				b.Free()
			}
		}
	}
}

// TestReplay runs the anti-replay window through Decap: reordering within
// the window, duplicates (also within one burst), too-old packets.
func TestReplay(t *testing.T) {
	s := suiteByName(t, "aes-gcm-16", "null")
	out, in := pair(t, s, saOpts{tunnel: true, window: 64})
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	const n = 100
	wires := make([][]byte, n+1) // by sequence number
	for seq := 1; seq <= n; seq++ {
		b := buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, seq))
		if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
			t.Fatal(r)
		}
		wires[seq] = append([]byte(nil), b.Bytes()...)
		b.Free()
	}
	burst := func(seqs ...int) []stats.Reason {
		bufs := make([]*pkt.Buf, len(seqs))
		sas := make([]*sad.SA, len(seqs))
		for i, s := range seqs {
			bufs[i], sas[i] = buf(t, wires[s]), in
		}
		res := make([]stats.Reason, len(seqs))
		q.Decap(bufs, sas, res, Options{})
		free(bufs...)
		return res
	}
	expect := func(got []stats.Reason, want ...stats.Reason) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	ok, rp := stats.ReasonNone, stats.ReasonReplay
	expect(burst(3, 1, 2), ok, ok, ok)        // reordered
	expect(burst(2), rp)                      // duplicate
	expect(burst(5, 5, 4, 5), ok, rp, ok, rp) // duplicates in one burst
	expect(burst(90), ok)                     // jump ahead
	expect(burst(27, 28, 10), ok, ok, rp)     // 27 is the window's bottom, 10 too old
	expect(burst(100, 37, 36), ok, ok, rp)    // window now 37..100
	if c := in.Counters(); c.Errors != 5 || c.Packets != 10 {
		t.Fatalf("counters %+v", c)
	}
}

// TestReplayESNWrap crosses 2^32 with ESN: the receiver infers the high
// half (the ICV covers it) and a non-ESN SA stops at 2^32-1.
func TestReplayESNWrap(t *testing.T) {
	for _, sn := range [][2]string{{"aes-gcm-16", "null"}, {"aes-cbc", "hmac-sha2-256"}, {"aes-gmac", "null"}} {
		for _, window := range []uint32{0, 64} {
			s := suiteByName(t, sn[0], sn[1])
			out, in := pair(t, s, saOpts{tunnel: true, esn: true, window: window})
			advance(t, out, 0xfffffffe)
			expectWindow(in, 0xfffffffe)
			p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
			var bufs []*pkt.Buf
			var sas []*sad.SA
			for range 4 {
				bufs = append(bufs, buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, 20)))
				sas = append(sas, out)
			}
			res := make([]stats.Reason, 4)
			if p.Encap(bufs, sas, res, Options{}) != 4 || out.Seq() != 0x100000001 {
				t.Fatalf("encap %v seq %#x", res, out.Seq())
			}
			for i := range bufs {
				bufs[i], sas[i] = wire(t, bufs[i]), in
			}
			// Deliver 2^32 first, then 2^32-2 and 2^32-1 late, then 2^32+1.
			bufs[0], bufs[2] = bufs[2], bufs[0]
			if q.Decap(bufs, sas, res, Options{}) != 4 {
				t.Fatalf("%s window %d: decap %v", s, window, res)
			}
			free(bufs...)
		}
	}
	// Without ESN the counter stops: 2^32-1 is the last number sent.
	out, _ := pair(t, suiteByName(t, "aes-gcm-16", "null"), saOpts{tunnel: true})
	advance(t, out, 0xffffffff)
	p := NewProcessor(alg.NewGoEngine())
	bufs := []*pkt.Buf{buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, 1)), buf(t, udp4("10.0.0.1", "10.0.0.2", 0, false, 1))}
	res := make([]stats.Reason, 2)
	if n := p.Encap(bufs, []*sad.SA{out, out}, res, Options{}); n != 1 || res[1] != stats.ReasonSeqWrap {
		t.Fatalf("at 2^32-1: %d ok, %v", n, res)
	}
	if ev := p.Expired(); len(ev) != 1 || ev[0].SA != out || ev[0].Expiry&sad.ExpireHard == 0 {
		t.Fatalf("expiries %+v", ev)
	}
	if out.Usable() {
		t.Fatal("SA still usable after the wrap")
	}
	if r := encap1(t, p, bufs[1], out, Options{}); r != stats.ReasonSAExpired {
		t.Fatalf("dead SA: %v", r)
	}
	free(bufs...)
}
