package esp

import (
	"fmt"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// layout is a mode and its address families.
type layout struct {
	name    string
	tunnel  bool
	outer6  bool
	inner6  bool
	ext     bool // IPv6 inner with extension headers around the insertion point
	options bool // IPv4 inner with header options (TCP)
}

var layouts = []layout{
	{name: "transport4"},
	{name: "transport4-options", options: true},
	{name: "transport6", outer6: true, inner6: true},
	{name: "transport6-ext", outer6: true, inner6: true, ext: true},
	{name: "4in4", tunnel: true},
	{name: "6in4", tunnel: true, inner6: true},
	{name: "4in6", tunnel: true, outer6: true},
	{name: "6in6", tunnel: true, outer6: true, inner6: true, ext: true},
}

var payloadSizes = []int{0, 1, 2, 3, 13, 14, 15, 16, 17, 100, 1400}

// packetFor builds a clear packet of the layout's inner family.
func packetFor(l layout, n int) []byte {
	switch {
	case l.inner6 && l.ext:
		return withExt6(udp6("2001:db8:1::10", "2001:db8:2::20", 0, n))
	case l.inner6:
		return udp6("2001:db8:1::10", "2001:db8:2::20", 0, n)
	case l.options:
		return tcp4("10.1.0.10", "10.2.0.20", n, true)
	}
	return udp4("10.1.0.10", "10.2.0.20", 0, true, n)
}

// roundTrip encapsulates one burst of every payload size and decapsulates
// it at a second SA copy, checking every byte comes back.
func roundTrip(t *testing.T, p, q *Processor, s suite, l layout, natt, esn bool) {
	t.Helper()
	out, in := pair(t, s, saOpts{tunnel: l.tunnel, v6: l.outer6, natt: natt, esn: esn, window: 64})
	n := len(payloadSizes)
	orig := make([][]byte, n)
	bufs := make([]*pkt.Buf, n)
	sas := make([]*sad.SA, n)
	ins := make([]*sad.SA, n)
	res := make([]stats.Reason, n)
	for i, sz := range payloadSizes {
		orig[i] = packetFor(l, sz)
		bufs[i] = buf(t, orig[i])
		sas[i], ins[i] = out, in
	}
	if got := p.Encap(bufs, sas, res, Options{}); got != n {
		t.Fatalf("encap: %d of %d ok: %v", got, n, res)
	}
	for i := range bufs {
		checkOuter(t, bufs[i].Bytes(), out)
		bufs[i] = wire(t, bufs[i])
	}
	if got := q.Decap(bufs, ins, res, Options{}); got != n {
		t.Fatalf("decap: %d of %d ok: %v", got, n, res)
	}
	for i, b := range bufs {
		if d := diff(b.Bytes(), orig[i]); d != "" {
			t.Fatalf("payload %d: %s", payloadSizes[i], d)
		}
		want := buf(t, orig[i])
		if b.Meta.L4Proto != want.Meta.L4Proto || b.Meta.L4Off != want.Meta.L4Off {
			t.Fatalf("L4 hint %d@%d, want %d@%d", b.Meta.L4Proto, b.Meta.L4Off, want.Meta.L4Proto, want.Meta.L4Off)
		}
		want.Free()
		st := b.Meta.Steps()
		if len(st) != 1 || st[0] != (pkt.Step{Proto: 50, Tunnel: l.tunnel, SPI: in.SPI, ReqID: in.ReqID}) || b.Meta.Flags&pkt.FlagDecapsulated == 0 {
			t.Fatalf("history %+v flags %b", st, b.Meta.Flags)
		}
	}
	free(bufs...)
	if c := in.Counters(); c.Packets != uint64(n) || c.Errors != 0 {
		t.Fatalf("inbound counters %+v", c)
	}
	oc, ic := out.Counters(), in.Counters()
	if oc.Bytes != ic.Bytes {
		t.Fatalf("byte lifetimes differ: out %d in %d", oc.Bytes, ic.Bytes)
	}
}

// TestRoundTripAll runs every enc x auth combination alg supports through
// transport and tunnel mode, every address family, NAT-T on and off, ESN
// on and off.
func TestRoundTripAll(t *testing.T) {
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	for _, s := range allSuites() {
		for _, l := range layouts {
			for _, natt := range []bool{false, true} {
				for _, esn := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/natt=%v/esn=%v", s, l.name, natt, esn)
					t.Run(name, func(t *testing.T) { roundTrip(t, p, q, s, l, natt, esn) })
				}
			}
		}
	}
}

// TestMixedRuns interleaves SAs in one burst (runs A A B A C C) and checks
// sequence numbers are consecutive per SA and everything decapsulates.
func TestMixedRuns(t *testing.T) {
	p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
	a, ai := pair(t, suiteByName(t, "aes-gcm-16", "null"), saOpts{tunnel: true, window: 64, spi: 0x101})
	b, bi := pair(t, suiteByName(t, "aes-cbc", "hmac-sha1"), saOpts{window: 64, spi: 0x102})
	c, ci := pair(t, suiteByName(t, "chacha20-poly1305", "null"), saOpts{tunnel: true, v6: true, esn: true, window: 64, spi: 0x103})
	outs := []*sad.SA{a, a, b, a, c, c}
	ins := []*sad.SA{ai, ai, bi, ai, ci, ci}
	bufs := make([]*pkt.Buf, len(outs))
	orig := make([][]byte, len(outs))
	for i := range bufs {
		orig[i] = udp4("10.0.0.1", "10.0.0.2", 0, false, 10*i)
		bufs[i] = buf(t, orig[i])
	}
	res := make([]stats.Reason, len(outs))
	if n := p.Encap(bufs, outs, res, Options{}); n != len(bufs) {
		t.Fatalf("encap %v", res)
	}
	wantSeq := []uint32{1, 2, 1, 3, 1, 2}
	for i := range bufs {
		b := bufs[i]
		off := int(b.Meta.L4Off)
		if got := uint32(b.Bytes()[off+4])<<24 | uint32(b.Bytes()[off+5])<<16 | uint32(b.Bytes()[off+6])<<8 | uint32(b.Bytes()[off+7]); got != wantSeq[i] {
			t.Fatalf("packet %d seq %d, want %d", i, got, wantSeq[i])
		}
		bufs[i] = wire(t, b)
	}
	if a.Seq() != 3 || b.Seq() != 1 || c.Seq() != 2 {
		t.Fatalf("SA counters %d %d %d", a.Seq(), b.Seq(), c.Seq())
	}
	if n := q.Decap(bufs, ins, res, Options{}); n != len(bufs) {
		t.Fatalf("decap %v", res)
	}
	for i := range bufs {
		if d := diff(bufs[i].Bytes(), orig[i]); d != "" {
			t.Fatal(d)
		}
	}
	free(bufs...)
}
