package esp

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// TestZeroAllocs runs Encap and Decap bursts in steady state and expects
// no heap allocation per burst.
func TestZeroAllocs(t *testing.T) {
	for _, c := range []struct {
		enc, auth string
		o         saOpts
	}{
		{"aes-gcm-16", "null", saOpts{tunnel: true}},
		{"aes-gcm-16", "null", saOpts{tunnel: true, esn: true, v6: true}},
		{"aes-cbc", "hmac-sha1", saOpts{tunnel: true}},
		{"aes-cbc", "hmac-sha2-256", saOpts{natt: true, esn: true}},
		{"aes-gcm-16", "null", saOpts{tunnel: true, natt: true, v6: true}},
		{"aes-gmac", "null", saOpts{esn: true}},
	} {
		s := suiteByName(t, c.enc, c.auth)
		c.o.window = 1024
		out, in := pair(t, s, c.o)
		p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
		const n = pkt.BurstSize
		clear := udp4("10.0.0.1", "10.0.0.2", 0, false, 500)
		bufs := make([]*pkt.Buf, n)
		for i := range bufs {
			bufs[i] = buf(t, clear)
		}
		outs, ins := make([]*sad.SA, n), make([]*sad.SA, n)
		for i := range outs {
			outs[i], ins[i] = out, in
		}
		res := make([]stats.Reason, n)
		run := func() {
			for _, b := range bufs {
				b.SetBytes(clear)
			}
			if p.Encap(bufs, outs, res, Options{}) != n {
				t.Fatalf("encap %v", res)
			}
			for _, b := range bufs {
				l4 := b.Meta.L4Proto
				off := b.Meta.L4Off
				b.Meta = pkt.Meta{L4Proto: l4, L4Off: off}
			}
			if q.Decap(bufs, ins, res, Options{}) != n {
				t.Fatalf("decap %v", res)
			}
		}
		run()
		if a := testing.AllocsPerRun(50, run); a != 0 {
			t.Errorf("%s %+v: %.1f allocations per burst pair", s, c.o, a)
		}
		free(bufs...)
	}
}
