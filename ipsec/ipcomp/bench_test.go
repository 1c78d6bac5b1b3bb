package ipcomp

import (
	"fmt"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

var benchSizes = []int{64, 512, 1420}

// benchRig is a burst of tunnel-mode IPv4 packets of compressible text.
type benchRig struct {
	bufs  []*pkt.Buf
	sas   []*sad.SA
	res   []stats.Reason
	clear []byte
	wire  []byte
	meta  pkt.Meta
	p, q  *Processor
}

func newRig(b *testing.B, size int, opt Options) *benchRig {
	sa := newSA(b, saOpts{tunnel: true})
	r := &benchRig{clear: udp4("10.0.0.1", "10.0.0.2", 0, payload(size-28, false, 0)), p: NewProcessor(), q: NewProcessor()}
	for range pkt.BurstSize {
		r.bufs, r.sas = append(r.bufs, buf(b, r.clear)), append(r.sas, sa)
	}
	r.res = make([]stats.Reason, pkt.BurstSize)
	if r.p.Encap(r.bufs, r.sas, r.res, opt) != pkt.BurstSize {
		b.Fatalf("encap %v", r.res)
	}
	r.wire = append([]byte(nil), r.bufs[0].Bytes()...)
	r.meta = r.bufs[0].Meta
	return r
}

func reportPPS(b *testing.B) {
	pkts := float64(b.N) * pkt.BurstSize
	b.ReportMetric(pkts/b.Elapsed().Seconds()/1e6, "Mpps")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pkts, "ns/pkt")
}

// BenchmarkEncap: tunnel mode, IPv4, compressible text (64-byte packets
// are below ipcomp_minlen and go out as plain IP-in-IP); out/in is the
// size on the wire over the size of the inner packet.
func BenchmarkEncap(b *testing.B) {
	for _, c := range compressors {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", c.name, size), func(b *testing.B) {
				r := newRig(b, size, c.opt)
				b.ReportAllocs()
				b.SetBytes(int64(size) * pkt.BurstSize)
				b.ResetTimer()
				for range b.N {
					for _, bf := range r.bufs {
						bf.SetBytes(r.clear)
					}
					if r.p.Encap(r.bufs, r.sas, r.res, c.opt) != pkt.BurstSize {
						b.Fatalf("encap %v", r.res)
					}
				}
				reportPPS(b)
				b.ReportMetric(float64(len(r.wire))/float64(len(r.clear)), "out/in")
			})
		}
	}
}

// BenchmarkDecap: the packets of BenchmarkEncap back.
func BenchmarkDecap(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			r := newRig(b, size, defaults)
			b.ReportAllocs()
			b.SetBytes(int64(size) * pkt.BurstSize)
			b.ResetTimer()
			for range b.N {
				for _, bf := range r.bufs {
					bf.SetBytes(r.wire)
					bf.Meta = r.meta
				}
				if r.q.Decap(r.bufs, r.sas, r.res, defaults) != pkt.BurstSize {
					b.Fatalf("decap %v", r.res)
				}
			}
			reportPPS(b)
		})
	}
}
