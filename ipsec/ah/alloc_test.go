package ah

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
)

// TestZeroAllocs runs Encap and Decap bursts in steady state and expects
// no heap allocation per burst.
func TestZeroAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		o    saOpts
	}{
		{"hmac-sha1", saOpts{}},
		{"hmac-sha2-256", saOpts{tunnel: true, esn: true}},
		{"aes-xcbc-mac", saOpts{v6: true}},
		{"aes-cmac", saOpts{v6: true, tunnel: true}},
		{"aes-gmac-128", saOpts{tunnel: true, esn: true}},
		{"hmac-sha2-512", saOpts{v6: true, esn: true}},
	} {
		c.o.window = 1024
		out, in := pair(t, suiteByName(t, c.name), c.o)
		p, q := NewProcessor(alg.NewGoEngine()), NewProcessor(alg.NewGoEngine())
		const n = pkt.BurstSize
		var clear []byte
		if c.o.v6 {
			clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0, 500, hbh, dst)
		} else {
			clear = udp4("192.0.2.1", "198.51.100.2", 0, 500, v4opts)
		}
		bufs := make([]*pkt.Buf, n)
		for i := range bufs {
			bufs[i] = buf(t, clear)
		}
		outs, ins := sasOf(out, n), sasOf(in, n)
		res := make([]stats.Reason, n)
		run := func() {
			for _, b := range bufs {
				b.SetBytes(clear)
				classify(b)
			}
			if p.Encap(bufs, outs, res, defaults) != n {
				t.Fatalf("encap %v", res)
			}
			for _, b := range bufs {
				b.Meta = pkt.Meta{L4Proto: b.Meta.L4Proto, L4Off: b.Meta.L4Off}
			}
			if q.Decap(bufs, ins, res, defaults) != n {
				t.Fatalf("decap %v", res)
			}
		}
		run()
		if a := testing.AllocsPerRun(50, run); a != 0 {
			t.Errorf("%s %+v: %.1f allocations per burst pair", c.name, c.o, a)
		}
		free(bufs...)
	}
}
