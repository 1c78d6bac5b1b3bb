package ah

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// FuzzDecap feeds arbitrary packets to Decap with SAs of both modes and
// families: it must never panic, and whatever it accepts must be a packet
// that verified (the fuzzer cannot forge an ICV, so only the seeds pass).
func FuzzDecap(f *testing.F) {
	var ins []*sad.SA
	var seeds [][]byte
	for _, o := range []saOpts{{}, {tunnel: true, esn: true, window: 64}, {v6: true}, {v6: true, tunnel: true}} {
		for _, name := range []string{"hmac-sha1", "aes-gmac-128"} {
			s := suiteByName(f, name)
			out, in := pair(f, s, o)
			var clear []byte
			if o.v6 {
				clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0, 30, hbh, dst)
			} else {
				clear = udp4("192.0.2.1", "198.51.100.2", 0, 30, v4opts)
			}
			b := buf(f, clear)
			if r := encap1(f, NewProcessor(alg.NewGoEngine()), b, out, defaults); r != stats.ReasonNone {
				f.Fatal(r)
			}
			seeds = append(seeds, append([]byte(nil), b.Bytes()...))
			b.Free()
			ins = append(ins, in)
		}
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	p := NewProcessor(alg.NewGoEngine())
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		if len(data) > 3000 {
			return
		}
		sa := ins[int(which)%len(ins)]
		b := testPool.Get()
		defer b.Free()
		b.SetBytes(data)
		classify(b)
		res := []stats.Reason{99}
		p.Decap([]*pkt.Buf{b}, []*sad.SA{sa}, res, defaults)
		if res[0] == stats.ReasonNone && (b.Meta.HistoryLen != 1 || b.Len() == 0) {
			t.Fatalf("accepted without a history step: %x", data)
		}
	})
}
