package reasm

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// BenchmarkReassemble copies each fragment into an rx buffer (as a driver
// would), adds it, and frees the reassembled datagram. 2-fragment
// datagrams (2000 B) come out in an rx buffer, 3-fragment ones (3000 B)
// in one of the Table's large buffers. Mpps counts datagrams.
func BenchmarkReassemble(b *testing.B) {
	r := newRand(42)
	for _, c := range []struct {
		fam, size, chunk int
	}{
		{4, 2000, 1480}, {4, 3000, 1480}, {6, 2000, 1232}, {6, 3000, 1232},
	} {
		var frags [][]byte
		idOff := 4
		if c.fam == 4 {
			frags = frag4(dgram4(r, c.size-hdr.IPv4MinLen, nil), c.chunk)
		} else {
			frags = frag6(dgram6(r, c.size-hdr.IPv6Len), 1, c.chunk)
			idOff = hdr.IPv6Len + 4
		}
		name := fmt.Sprintf("v%d/%dfrags/%dB", c.fam, len(frags), c.size)
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, Config{})
			b.ReportAllocs()
			b.SetBytes(int64(c.size))
			var id uint32
			for b.Loop() {
				id++
				var out *pkt.Buf
				for _, f := range frags {
					buf := e.cache.Get()
					buf.SetBytes(f)
					p := buf.Bytes()
					if c.fam == 4 {
						binary.BigEndian.PutUint16(p[idOff:], uint16(id))
					} else {
						binary.BigEndian.PutUint32(p[idOff:], id)
					}
					out = e.tab.Add(buf, e.now, e.drop)
				}
				if out == nil {
					b.Fatal("not reassembled")
				}
				e.cache.Put(out)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
		})
	}
}
