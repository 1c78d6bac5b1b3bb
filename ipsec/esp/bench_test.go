package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

var benchAlgs = []struct {
	name      string
	enc, auth string
	encBits   int // 0: the smallest
}{
	{"aes-gcm-16-128", "aes-gcm-16", "null", 160},
	{"aes-gcm-16-256", "aes-gcm-16", "null", 288},
	{"chacha20-poly1305", "chacha20-poly1305", "null", 0},
	{"aes-cbc+hmac-sha1", "aes-cbc", "hmac-sha1", 0},
	{"aes-cbc+hmac-sha2-256", "aes-cbc", "hmac-sha2-256", 0},
	{"aes-gmac", "aes-gmac", "null", 160},
	{"null+hmac-sha2-256", "null", "hmac-sha2-256", 0},
}

var benchSizes = []int{64, 512, 1420}

// benchRig is one burst of tunnel-mode IPv4 packets and its SAs.
type benchRig struct {
	bufs     []*pkt.Buf
	outs     []*sad.SA
	ins      []*sad.SA
	res      []stats.Reason
	clear    []byte
	wires    [][]byte // encapsulated packets, for Decap
	off      []int    // each buffer's clear packet offset
	woff     []int    // each buffer's encapsulated packet offset
	p, q     *Processor
	wireMeta pkt.Meta
}

func newRig(b *testing.B, enc, auth string, bits, size int) *benchRig {
	s := suiteByName(b, enc, auth)
	if bits != 0 {
		s.encKey = keyOf(bits, 0x11)
	}
	out, in := pair(b, s, saOpts{tunnel: true}) // window 0: packets may repeat
	r := &benchRig{clear: udp4("10.0.0.1", "10.0.0.2", 0, false, size-28),
		p: NewProcessor(alg.NewGoEngine()), q: NewProcessor(alg.NewGoEngine())}
	for range pkt.BurstSize {
		bf := buf(b, r.clear)
		_, off := bf.Raw()
		r.bufs, r.outs, r.ins, r.off = append(r.bufs, bf), append(r.outs, out), append(r.ins, in), append(r.off, off)
	}
	r.res = make([]stats.Reason, pkt.BurstSize)
	if r.p.Encap(r.bufs, r.outs, r.res, Options{}) != pkt.BurstSize {
		b.Fatalf("encap %v", r.res)
	}
	for _, bf := range r.bufs {
		_, off := bf.Raw()
		r.wires = append(r.wires, append([]byte(nil), bf.Bytes()...))
		r.woff = append(r.woff, off)
	}
	r.wireMeta = r.bufs[0].Meta
	return r
}

// resetClear puts the clear packet's header back where it was (the body
// stays encrypted: its contents do not change the cost).
func (r *benchRig) resetClear() {
	for i, bf := range r.bufs {
		bf.SetData(r.off[i], len(r.clear))
		copy(bf.Bytes()[:28], r.clear)
	}
}

// resetWire restores the encapsulated packets (Open decrypts in place).
func (r *benchRig) resetWire() {
	for i, bf := range r.bufs {
		bf.SetData(r.woff[i], len(r.wires[i]))
		copy(bf.Bytes(), r.wires[i])
		bf.Meta = r.wireMeta
	}
}

func (r *benchRig) encap(b *testing.B) {
	r.resetClear()
	if r.p.Encap(r.bufs, r.outs, r.res, Options{}) != pkt.BurstSize {
		b.Fatalf("encap %v", r.res)
	}
}

func (r *benchRig) decap(b *testing.B) {
	r.resetWire()
	if r.q.Decap(r.bufs, r.ins, r.res, Options{}) != pkt.BurstSize {
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
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", a.name, sz), func(b *testing.B) {
				r := newRig(b, a.enc, a.auth, a.encBits, sz)
				b.SetBytes(int64(sz) * pkt.BurstSize)
				b.ReportAllocs()
				for b.Loop() {
					r.encap(b)
				}
				reportPPS(b)
			})
		}
	}
}

// BenchmarkDecap: tunnel-mode IPv4, bursts of 32 (each burst restores the
// ciphertext first, as the bare Open below does).
func BenchmarkDecap(b *testing.B) {
	for _, a := range benchAlgs {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", a.name, sz), func(b *testing.B) {
				r := newRig(b, a.enc, a.auth, a.encBits, sz)
				b.SetBytes(int64(sz) * pkt.BurstSize)
				b.ReportAllocs()
				for b.Loop() {
					r.decap(b)
				}
				reportPPS(b)
			})
		}
	}
}

// bareAEAD is AES-128-GCM on its own: 32 payloads of size bytes with an
// 8-byte AAD, sealed in place, or restored and opened in place.
type bareAEAD struct {
	aead  cipher.AEAD
	bufs  [][]byte
	ct    [][]byte
	nonce []byte
	aad   []byte
}

func newBare(size int) *bareAEAD {
	blk, _ := aes.NewCipher(keyOf(128, 1))
	g, _ := cipher.NewGCM(blk)
	x := &bareAEAD{aead: g, nonce: make([]byte, 12), aad: make([]byte, 8)}
	for range pkt.BurstSize {
		bf := make([]byte, size, size+16)
		x.bufs = append(x.bufs, bf)
		x.ct = append(x.ct, g.Seal(nil, x.nonce, bf, x.aad))
	}
	return x
}

func (x *bareAEAD) seal() {
	for _, bf := range x.bufs {
		x.aead.Seal(bf[:0], x.nonce, bf[:len(bf)], x.aad)
	}
}

func (x *bareAEAD) open() {
	for i, bf := range x.bufs {
		bf = bf[:len(x.ct[i])]
		copy(bf, x.ct[i])
		if _, err := x.aead.Open(bf[:0], x.nonce, bf, x.aad); err != nil {
			panic(err)
		}
	}
}

// BenchmarkBareAEAD is the floor: Go's AES-128-GCM alone.
func BenchmarkBareAEAD(b *testing.B) {
	for _, sz := range benchSizes {
		for _, op := range []string{"seal", "open"} {
			b.Run(fmt.Sprintf("%s/%d", op, sz), func(b *testing.B) {
				x := newBare(sz)
				b.SetBytes(int64(sz) * pkt.BurstSize)
				b.ReportAllocs()
				for b.Loop() {
					if op == "seal" {
						x.seal()
					} else {
						x.open()
					}
				}
				reportPPS(b)
			})
		}
	}
}

// BenchmarkRatio1420 measures, in one run, our per-packet cost for
// AES-128-GCM tunnel IPv4 at 1420 bytes over the bare AEAD's on the same
// payload size (target <= 1.15). The four are interleaved burst by burst so
// machine noise hits them alike.
func BenchmarkRatio1420(b *testing.B) {
	r := newRig(b, "aes-gcm-16", "null", 160, 1420)
	x := newBare(1420)
	var enc, seal, dec, open time.Duration
	timed := func(d *time.Duration, f func()) {
		t0 := time.Now()
		f()
		*d += time.Since(t0)
	}
	for b.Loop() {
		timed(&enc, func() { r.encap(b) })
		timed(&seal, x.seal)
		timed(&dec, func() { r.decap(b) })
		timed(&open, x.open)
	}
	n := float64(b.N) * pkt.BurstSize
	b.ReportMetric(float64(enc)/float64(seal), "encap/seal")
	b.ReportMetric(float64(dec)/float64(open), "decap/open")
	b.Logf("1420 B AES-128-GCM per packet: encap %.0f ns vs seal %.0f ns (%.3f); decap %.0f ns vs open %.0f ns (%.3f)",
		float64(enc)/n, float64(seal)/n, float64(enc)/float64(seal), float64(dec)/n, float64(open)/n, float64(dec)/float64(open))
}
