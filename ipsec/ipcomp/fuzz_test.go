package ipcomp

import (
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// FuzzDecap feeds arbitrary packets (corrupt streams, bombs, bad
// headers) to Decap: it must never panic, never return more than the
// bounds allow, and leave a history step on what it accepts.
func FuzzDecap(f *testing.F) {
	sas := []*sad.SA{newSA(f, saOpts{}), newSA(f, saOpts{tunnel: true}), newSA(f, saOpts{v6: true}), newSA(f, saOpts{v6: true, tunnel: true})}
	p := NewProcessor()
	for i, sa := range sas {
		var clear []byte
		if sa.Dst.Is6() {
			clear = udp6("2001:db8::1", "2001:db8:ffff::2", 0, payload(400, false, 0), true)
		} else {
			clear = udp4("192.0.2.1", "198.51.100.2", 0, payload(400, false, 0))
		}
		b := buf(f, clear)
		if r := encap1(p, b, sa, defaults); r != stats.ReasonNone {
			f.Fatal(r)
		}
		f.Add(append([]byte(nil), b.Bytes()...), uint8(i), uint16(0))
		b.Free()
	}
	f.Add(ipcompPacket(hdr.ProtoIPIP, 2, deflateBest(f, make([]byte, 100000))), uint8(1), uint16(1500))
	q := NewProcessor()
	f.Fuzz(func(t *testing.T, data []byte, which uint8, maxLen uint16) {
		if len(data) > 3000 {
			return
		}
		sa := sas[int(which)%len(sas)]
		b := testPool.Get()
		defer b.Free()
		b.SetBytes(data)
		classify(b)
		res := []stats.Reason{99}
		q.Decap([]*pkt.Buf{b}, []*sad.SA{sa}, res, Options{MaxLen: int(maxLen)})
		if res[0] != stats.ReasonNone {
			return
		}
		if b.Meta.HistoryLen != 1 || (maxLen != 0 && b.Len() > int(maxLen)) {
			t.Fatalf("accepted %d bytes (max %d), history %d", b.Len(), maxLen, b.Meta.HistoryLen)
		}
	})
}
