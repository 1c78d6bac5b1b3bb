package esp

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// fuzzSAs are the receivers FuzzDecap feeds: AEAD, CBC+HMAC, GMAC,
// NAT-T, ESN, tunnel and transport, v4 and v6.
func fuzzSAs(t testing.TB) (outs, ins []*sad.SA) {
	for _, c := range []struct {
		enc, auth string
		o         saOpts
	}{
		{"aes-gcm-16", "null", saOpts{tunnel: true, window: 64}},
		{"aes-cbc", "hmac-sha1", saOpts{window: 64, esn: true}},
		{"aes-gcm-16", "null", saOpts{tunnel: true, natt: true, esn: true, window: 0}},
		{"aes-gmac", "null", saOpts{tunnel: true, v6: true, window: 64}},
		{"null", "hmac-sha2-256", saOpts{v6: true, natt: true, window: 32}},
	} {
		o, i := pair(t, suiteByName(t, c.enc, c.auth), c.o)
		outs, ins = append(outs, o), append(ins, i)
	}
	return outs, ins
}

// fuzzPacket wraps esp in the outer headers sa expects (consistent
// lengths, so the fuzzer reaches the ESP code).
func fuzzPacket(sa *sad.SA, esp []byte) []byte {
	l4 := esp
	proto := uint8(hdr.ProtoESP)
	if sa.NATT {
		l4 = make([]byte, 8+len(esp))
		copy(l4[8:], esp)
		u := hdr.UDP(l4)
		u.SetSrcPort(4500)
		u.SetDstPort(4500)
		u.SetLength(len(l4))
		proto = hdr.ProtoUDP
	}
	if sa.Dst.Is4() {
		return outer4(proto, l4)
	}
	p := make([]byte, 40, 40+len(l4))
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(len(l4))
	ip.SetNextHeader(proto)
	ip.SetHopLimit(64)
	return append(p, l4...)
}

// FuzzDecap feeds arbitrary bytes as the ESP packet (or, with raw set, as
// the whole IP packet) to a few SAs: Decap must never panic and its
// scratch must stay bounded.
func FuzzDecap(f *testing.F) {
	outs, ins := fuzzSAs(f)
	p := NewProcessor(alg.NewGoEngine())
	for k, sa := range outs {
		b := buf(f, udp4("10.0.0.1", "10.0.0.2", 0, false, 40))
		if r := encap1(f, p, b, sa, Options{}); r != 0 {
			f.Fatal(r)
		}
		off := int(b.Meta.L4Off)
		if sa.NATT {
			off += 8
		}
		f.Add(uint8(k), false, b.Bytes()[off:])
		f.Add(uint8(k), true, b.Bytes())
		b.Free()
	}
	f.Add(uint8(0), false, []byte{})
	f.Add(uint8(1), true, []byte{0x45})
	q := NewProcessor(alg.NewGoEngine())
	f.Fuzz(func(t *testing.T, which uint8, raw bool, data []byte) {
		sa := ins[int(which)%len(ins)]
		p := data
		if !raw {
			p = fuzzPacket(sa, data)
		}
		b := testPool.Get()
		if b == nil || !b.SetBytes(p) {
			if b != nil {
				b.Free()
			}
			return
		}
		classify(b)
		if raw && which&0x80 != 0 {
			b.Meta.L4Off = uint16(which) // a lying hint
		}
		decap1(t, q, b, sa, Options{ECN: which&1 != 0})
		b.Free()
		if cap(q.ops) > 4*pkt.BurstSize || cap(q.w) > 4*pkt.BurstSize || len(q.Expired()) > 1 {
			t.Fatal("scratch grew")
		}
	})
}
