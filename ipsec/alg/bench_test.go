package alg

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

const benchBurst = 32

var benchSizes = []int{64, 512, 1420}

var benchCombos = []combo{
	{EncAESGCM16, 0}, {EncAESGCM12, 0}, {EncAESGCM8, 0}, {EncAESGMAC, 0}, {EncChaCha20Poly1305, 0},
	{EncAESCBC, AuthHMACSHA1}, {EncAESCBC, AuthHMACSHA256}, {EncAESCBC, AuthHMACSHA512},
	{EncAESCBC, AuthAESXCBC}, {EncAESCBC, AuthAESCMAC}, {EncAESCTR, AuthHMACSHA256},
	{Enc3DESCBC, AuthHMACSHA1}, {EncNull, AuthHMACSHA256}, {EncNull, AuthHMACMD5},
}

func benchSession(b *testing.B, c combo) *Session {
	ed := c.enc.Desc()
	ek := make([]byte, ed.Key.Allowed0()/8)
	var ak []byte
	if ad := c.auth.Desc(); ad != nil && ad.ID != AuthNull {
		ak = make([]byte, ad.Key.Max/8)
	}
	s, err := NewSession(c.enc, ek, c.auth, ak)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// Allowed0 is the smallest allowed key size (AES-128 for the benchmarks).
func (k KeySizes) Allowed0() int {
	if k.Allowed != nil {
		return k.Allowed[0]
	}
	return 0
}

func reportMpps(b *testing.B) {
	b.ReportMetric(float64(b.N)*benchBurst/b.Elapsed().Seconds()/1e6, "Mpps")
}

// BenchmarkSeal: one iteration seals a burst of 32 packets of the given
// payload size (rounded up to the cipher block).
func BenchmarkSeal(b *testing.B) {
	for _, c := range benchCombos {
		for _, n := range benchSizes {
			b.Run(benchName(c, n), func(b *testing.B) {
				s := benchSession(b, c)
				e := NewGoEngine()
				ops := make([]Op, benchBurst)
				for i := range ops {
					ops[i] = makePacket(s, n, false, true, uint64(i+1)).op
				}
				b.SetBytes(int64(n) * benchBurst)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					e.Seal(ops)
				}
				reportMpps(b)
			})
		}
	}
}

// BenchmarkOpen: restores each sealed packet (one copy, as in the bare
// baseline) and opens the burst.
func BenchmarkOpen(b *testing.B) {
	for _, c := range benchCombos {
		for _, n := range benchSizes {
			b.Run(benchName(c, n), func(b *testing.B) {
				s := benchSession(b, c)
				e := NewGoEngine()
				ops := make([]Op, benchBurst)
				bufs := make([][]byte, benchBurst)
				saved := make([][]byte, benchBurst)
				for i := range ops {
					p := makePacket(s, n, false, true, uint64(i+1))
					ops[i], bufs[i] = p.op, p.buf
				}
				e.Seal(ops)
				for i := range ops {
					saved[i] = append([]byte(nil), bufs[i]...)
				}
				b.SetBytes(int64(n) * benchBurst)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range bufs {
						copy(bufs[j], saved[j])
					}
					e.Open(ops)
				}
				b.StopTimer()
				for i := range ops {
					if ops[i].Status != OK {
						b.Fatal(ops[i].Status)
					}
				}
				reportMpps(b)
			})
		}
	}
}

// BenchmarkBareAEAD is the baseline: cipher.AEAD AES-128-GCM Seal/Open in
// place on the same buffer shapes, no Op/Session layer.
func BenchmarkBareAEAD(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCM(blk)
	nonce := make([]byte, 12)
	aad := make([]byte, 8)
	for _, dir := range []string{"Seal", "Open"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", dir, n), func(b *testing.B) {
				bufs := make([][]byte, benchBurst)
				saved := make([][]byte, benchBurst)
				for i := range bufs {
					bufs[i] = make([]byte, n+16, n+16+64)
					g.Seal(bufs[i][:0], nonce, bufs[i][:n], aad)
					saved[i] = append([]byte(nil), bufs[i]...)
				}
				b.SetBytes(int64(n) * benchBurst)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if dir == "Seal" {
						for _, buf := range bufs {
							g.Seal(buf[:0], nonce, buf[:n], aad)
						}
						continue
					}
					for j, buf := range bufs {
						copy(buf, saved[j])
						if _, err := g.Open(buf[:0], nonce, buf, aad); err != nil {
							b.Fatal(err)
						}
					}
				}
				reportMpps(b)
			})
		}
	}
}

func benchName(c combo, n int) string {
	if c.auth == 0 {
		return fmt.Sprintf("%v/%d", c.enc, n)
	}
	return fmt.Sprintf("%v+%v/%d", c.enc, c.auth, n)
}
