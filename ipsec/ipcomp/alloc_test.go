package ipcomp

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// TestZeroAllocs: compressing and decompressing bursts in steady state
// allocates nothing (one deflate encoder and flate reader per core).
func TestZeroAllocs(t *testing.T) {
	for _, c := range compressors {
		t.Run(c.name, func(t *testing.T) { testZeroAllocs1(t, c.opt) })
	}
}

func testZeroAllocs1(t *testing.T, opt Options) {
	for _, o := range []saOpts{{}, {tunnel: true, v6: true}} {
		sa := newSA(t, o)
		p, q := NewProcessor(), NewProcessor()
		const n = pkt.BurstSize
		var clear []byte
		if o.v6 {
			clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0, payload(1000, false, 0), true)
		} else {
			clear = udp4("192.0.2.1", "198.51.100.2", 0, payload(1000, false, 0))
		}
		bufs := make([]*pkt.Buf, n)
		sas := make([]*sad.SA, n)
		for i := range bufs {
			bufs[i], sas[i] = buf(t, clear), sa
		}
		res := make([]stats.Reason, n)
		run := func() {
			for _, b := range bufs {
				b.SetBytes(clear)
				b.Meta = pkt.Meta{}
				classify(b)
			}
			if p.Encap(bufs, sas, res, opt) != n {
				t.Fatalf("encap %v", res)
			}
			for _, b := range bufs {
				b.Meta = pkt.Meta{L4Proto: b.Meta.L4Proto, L4Off: b.Meta.L4Off}
			}
			if q.Decap(bufs, sas, res, opt) != n {
				t.Fatalf("decap %v", res)
			}
		}
		run()
		if a := testing.AllocsPerRun(20, run); a != 0 {
			t.Errorf("%+v: %.1f allocations per burst pair", o, a)
		}
		for _, b := range bufs {
			b.Free()
		}
	}
}
