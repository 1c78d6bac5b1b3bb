package ah

import (
	"fmt"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

var benchAlgs = []string{"hmac-sha1", "hmac-sha2-256", "aes-xcbc-mac", "aes-gmac-128"}

var benchSizes = []int{64, 512, 1420}

// benchRig is one burst of tunnel-mode IPv4 packets and its SAs.
type benchRig struct {
	bufs      []*pkt.Buf
	outs, ins []*sad.SA
	res       []stats.Reason
	clear     []byte
	wire      []byte
	off, woff int
	p, q      *Processor
	clearMeta pkt.Meta
	wireMeta  pkt.Meta
}

func newRig(b *testing.B, name string, size int) *benchRig {
	out, in := pair(b, suiteByName(b, name), saOpts{tunnel: true}) // window 0: packets may repeat
	r := &benchRig{clear: udp4("10.0.0.1", "10.0.0.2", 0, size-28, nil),
		p: NewProcessor(alg.NewGoEngine()), q: NewProcessor(alg.NewGoEngine())}
	for range pkt.BurstSize {
		r.bufs = append(r.bufs, buf(b, r.clear))
		r.outs, r.ins = append(r.outs, out), append(r.ins, in)
	}
	_, r.off = r.bufs[0].Raw()
	r.clearMeta = r.bufs[0].Meta
	r.res = make([]stats.Reason, pkt.BurstSize)
	if r.p.Encap(r.bufs, r.outs, r.res, defaults) != pkt.BurstSize {
		b.Fatalf("encap %v", r.res)
	}
	_, r.woff = r.bufs[0].Raw()
	r.wire = append([]byte(nil), r.bufs[0].Bytes()...)
	r.wireMeta = r.bufs[0].Meta
	return r
}

func (r *benchRig) encap(b *testing.B) {
	for _, bf := range r.bufs {
		bf.SetData(r.off, len(r.clear))
		copy(bf.Bytes()[:28], r.clear) // the payload is untouched by AH
		bf.Meta = r.clearMeta
	}
	if r.p.Encap(r.bufs, r.outs, r.res, defaults) != pkt.BurstSize {
		b.Fatalf("encap %v", r.res)
	}
}

func (r *benchRig) decap(b *testing.B) {
	for _, bf := range r.bufs {
		bf.SetData(r.woff, len(r.wire))
		copy(bf.Bytes()[:len(r.wire)-len(r.clear)+28], r.wire) // headers; the payload is unchanged
		bf.Meta = r.wireMeta
	}
	if r.q.Decap(r.bufs, r.ins, r.res, defaults) != pkt.BurstSize {
		b.Fatalf("decap %v", r.res)
	}
}

func reportPPS(b *testing.B) {
	pkts := float64(b.N) * pkt.BurstSize
	b.ReportMetric(pkts/b.Elapsed().Seconds()/1e6, "Mpps")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pkts, "ns/pkt")
}

// BenchmarkEncap: tunnel-mode IPv4, bursts of 32.
func BenchmarkEncap(b *testing.B) {
	for _, a := range benchAlgs {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", a, size), func(b *testing.B) {
				r := newRig(b, a, size)
				b.ReportAllocs()
				b.SetBytes(int64(size) * pkt.BurstSize)
				b.ResetTimer()
				for range b.N {
					r.encap(b)
				}
				reportPPS(b)
			})
		}
	}
}

// BenchmarkDecap: tunnel-mode IPv4, bursts of 32.
func BenchmarkDecap(b *testing.B) {
	for _, a := range benchAlgs {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", a, size), func(b *testing.B) {
				r := newRig(b, a, size)
				b.ReportAllocs()
				b.SetBytes(int64(size) * pkt.BurstSize)
				b.ResetTimer()
				for range b.N {
					r.decap(b)
				}
				reportPPS(b)
			})
		}
	}
}
