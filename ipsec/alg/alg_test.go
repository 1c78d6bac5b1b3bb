package alg

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	mrand "math/rand/v2"
	"testing"
)

func TestRegistry(t *testing.T) {
	for _, d := range Encs() {
		if got, ok := EncByName(d.Name); !ok || got != d {
			t.Errorf("EncByName(%q)", d.Name)
		}
		for _, a := range d.Aliases {
			if got, ok := EncByName(a); !ok || got != d {
				t.Errorf("EncByName alias %q", a)
			}
		}
		if got, ok := EncByFreeBSD(d.FreeBSD); d.FreeBSD != NoNumber && (!ok || got != d) {
			t.Errorf("EncByFreeBSD(%d)", d.FreeBSD)
		}
		if got, ok := EncByLinux(d.Linux); d.Linux != NoNumber && (!ok || got != d) {
			t.Errorf("EncByLinux(%d)", d.Linux)
		}
		if d.ID.String() != d.Name || d.ID.Desc() != d {
			t.Errorf("%v: String/Desc", d.ID)
		}
		if d.AEAD && (d.IVLen != 8 || d.SaltLen != 4) {
			t.Errorf("%s: AEAD nonce is a 4-byte salt and an 8-byte IV (aeadNonce), got %d and %d", d.Name, d.SaltLen, d.IVLen)
		}
		if d.BlockLen < 4 || d.BlockLen&(d.BlockLen-1) != 0 {
			t.Errorf("%s: padding alignment %d is not a power of two >= 4 (ESP pads with a mask)", d.Name, d.BlockLen)
		}
		if d.SaltLen > 0 {
			for _, b := range d.Key.Allowed {
				if (b-32)%64 != 0 {
					t.Errorf("%s: key size %d does not include a 32-bit salt", d.Name, b)
				}
			}
		}
	}
	for _, d := range Auths() {
		if got, ok := AuthByName(d.Name); !ok || got != d {
			t.Errorf("AuthByName(%q)", d.Name)
		}
		for _, a := range d.Aliases {
			if got, ok := AuthByName(a); !ok || got != d {
				t.Errorf("AuthByName alias %q", a)
			}
		}
		if got, ok := AuthByFreeBSD(d.FreeBSD); d.FreeBSD != NoNumber && (!ok || got != d) {
			t.Errorf("AuthByFreeBSD(%d)", d.FreeBSD)
		}
		if got, ok := AuthByLinux(d.Linux); d.Linux != NoNumber && (!ok || got != d) {
			t.Errorf("AuthByLinux(%d)", d.Linux)
		}
	}
	// Spot checks against net/pfkeyv2.h and linux/pfkeyv2.h.
	checks := []struct {
		name     string
		fbsd, lx int
	}{{"aes-gcm-16", 20, 20}, {"aes-gcm-8", 18, 18}, {"aes-gmac", 23, 23}, {"chacha20-poly1305", 15, NoNumber},
		{"rijndael-cbc", 12, 12}, {"aes-ctr", 13, 13}, {"3des-cbc", 3, 3}, {"null", 11, 11}}
	for _, c := range checks {
		d, _ := EncByName(c.name)
		if d == nil || d.FreeBSD != c.fbsd || d.Linux != c.lx {
			t.Errorf("%s numbers", c.name)
		}
	}
	if d, _ := AuthByName("hmac-sha256"); d == nil || d.ID != AuthHMACSHA256 || d.FreeBSD != 5 {
		t.Error("hmac-sha256 alias")
	}
	if d, _ := AuthByName("aes-cmac"); d == nil || d.FreeBSD != NoNumber || d.Linux != NoNumber {
		t.Error("aes-cmac has no PF_KEY numbers")
	}
	if d, _ := EncByName("AES-GCM-16"); d == nil || d.Key.String() != "160, 224 or 288" || d.IVLen != 8 || d.ICVLen != 16 || !d.AEAD {
		t.Error("aes-gcm-16 desc")
	}
	if _, ok := EncByName("des-cbc"); ok {
		t.Error("des-cbc is not supported")
	}
	if EncID(0).String() != "enc(0)" || AuthID(200).String() != "auth(200)" {
		t.Error("invalid id String")
	}
}

func TestNewSessionErrors(t *testing.T) {
	k := func(n int) []byte { return make([]byte, n) }
	cases := []struct {
		enc  EncID
		ek   []byte
		auth AuthID
		ak   []byte
		want error
	}{
		{EncInvalid, nil, AuthHMACSHA1, k(20), ErrUnknownAlgorithm},
		{EncAESCBC, k(16), AuthID(99), nil, ErrUnknownAlgorithm},
		{EncAESCBC, k(15), AuthHMACSHA1, k(20), ErrKeyLength},
		{EncAESGCM16, k(16), 0, nil, ErrKeyLength}, // salt missing
		{EncChaCha20Poly1305, k(32), 0, nil, ErrKeyLength},
		{EncAESCBC, k(16), AuthHMACSHA256, k(20), ErrKeyLength},
		{EncAESGCM16, k(20), AuthHMACSHA1, k(20), ErrCombination},
		{EncAESGCM16, k(20), AuthNull, k(4), ErrCombination},
		{EncNull, nil, AuthNull, nil, ErrCombination},
	}
	for i, c := range cases {
		if _, err := NewSession(c.enc, c.ek, c.auth, c.ak); !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
	_, err := NewSession(EncAESCTR, k(17), AuthNull, nil)
	if err == nil || err.Error() != "alg: bad key length: aes-ctr encryption key is 136 bits, want 160, 224 or 288" {
		t.Errorf("message: %v", err)
	}
}

type combo struct {
	enc  EncID
	auth AuthID
}

func allCombos() []combo {
	var out []combo
	for _, e := range Encs() {
		if e.AEAD {
			out = append(out, combo{e.ID, 0})
			continue
		}
		for _, a := range Auths() {
			if e.ID == EncNull && a.ID == AuthNull {
				continue
			}
			out = append(out, combo{e.ID, a.ID})
		}
	}
	return out
}

func randKey(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func newTestSession(t testing.TB, c combo) *Session {
	ed, ad := c.enc.Desc(), c.auth.Desc()
	ek := randKey(ed.Key.Max / 8)
	if ed.ID == EncNull {
		ek = nil
	}
	var ak []byte
	if ad != nil && ad.ID != AuthNull {
		ak = randKey(ad.Key.Max / 8)
	}
	s, err := NewSession(c.enc, ek, c.auth, ak)
	if err != nil {
		t.Fatalf("%v/%v: %v", c.enc, c.auth, err)
	}
	return s
}

// testPacket is an ESP-shaped buffer: SPI|Seq|IV|Text|ICV|tailroom.
type testPacket struct {
	buf  []byte
	aad  [12]byte
	op   Op
	orig []byte
}

func makePacket(s *Session, n int, esn bool, adjacent bool, seq uint64) *testPacket {
	if s.Enc() == EncAESGMAC {
		n = 0
	}
	n = (n + s.cipherBlock - 1) / s.cipherBlock * s.cipherBlock
	ivl, icvl := s.IVLen(), s.ICVLen()
	p := &testPacket{buf: make([]byte, 8+ivl+n+icvl, 8+ivl+n+icvl+64)}
	for i := range p.buf {
		p.buf[i] = byte(i * 7)
	}
	p.op = Op{Sess: s, IV: p.buf[8 : 8+ivl], Text: p.buf[8+ivl : 8+ivl+n], Auth: p.buf[:8+ivl+n],
		ICV: p.buf[8+ivl+n:], IVCounter: seq, ESN: esn, SeqHi: uint32(seq >> 32)}
	if !adjacent && icvl > 0 {
		p.op.ICV = make([]byte, icvl)
	}
	copy(p.aad[:4], p.buf[:4])
	if esn {
		p.aad[4], p.aad[5], p.aad[6], p.aad[7] = byte(seq>>56), byte(seq>>48), byte(seq>>40), byte(seq>>32)
		copy(p.aad[8:], p.buf[4:8])
		p.op.AAD = p.aad[:12]
	} else {
		copy(p.aad[4:8], p.buf[4:8])
		p.op.AAD = p.aad[:8]
	}
	if s.Enc() == EncAESGMAC {
		p.op.AAD = p.buf[:8+ivl+n] // the whole region; IV written by Seal
	}
	p.orig = append([]byte(nil), p.op.Text...)
	return p
}

// AADOnly is a property of the session, chosen once: true for AES-GMAC only.
func TestAADOnly(t *testing.T) {
	for _, c := range allCombos() {
		s := newTestSession(t, c)
		if want := c.enc == EncAESGMAC; s.AADOnly() != want {
			t.Errorf("%v/%v: AADOnly %v, want %v", c.enc, c.auth, s.AADOnly(), want)
		}
		if s.AADOnly() && !s.AEAD() {
			t.Errorf("%v: AADOnly without AEAD", c.enc)
		}
	}
}

func TestRoundTripAllCombos(t *testing.T) {
	e := NewGoEngine()
	for _, c := range allCombos() {
		s := newTestSession(t, c)
		for _, n := range []int{0, 1, 2, 15, 16, 17, 64, 100, 1420, 9000} {
			for _, esn := range []bool{false, true} {
				for _, adj := range []bool{true, false} {
					p := makePacket(s, n, esn, adj, 0x1_0000_0007)
					ops := []Op{p.op}
					e.Seal(ops)
					if ops[0].Status != OK {
						t.Fatalf("%v/%v n=%d: seal %v", c.enc, c.auth, n, ops[0].Status)
					}
					if len(p.orig) >= 16 && c.enc != EncNull && bytes.Equal(ops[0].Text, p.orig) {
						t.Fatalf("%v/%v: not encrypted", c.enc, c.auth)
					}
					e.Open(ops)
					if ops[0].Status != OK || !bytes.Equal(ops[0].Text, p.orig) {
						t.Fatalf("%v/%v n=%d esn=%v adj=%v: open %v", c.enc, c.auth, n, esn, adj, ops[0].Status)
					}
				}
			}
		}
	}
}

// Flip any byte of Auth, ICV, AAD (and IV for AEAD) or SeqHi: Open must
// report BadICV and must not decrypt.
func TestTamper(t *testing.T) {
	e := NewGoEngine()
	for _, c := range allCombos() {
		s := newTestSession(t, c)
		if s.ICVLen() == 0 {
			continue
		}
		p := makePacket(s, 64, true, true, 0x2_0000_0001)
		ops := []Op{p.op}
		e.Seal(ops)
		sealed := append([]byte(nil), p.buf...)
		sealedICV := append([]byte(nil), p.op.ICV...)
		sealedAAD := p.aad
		var regions [][]byte
		if s.AEAD() {
			regions = [][]byte{p.op.AAD, p.op.IV, p.op.ICV}
			if len(p.op.Text) > 0 {
				regions = append(regions, p.op.Text)
			}
		} else {
			regions = [][]byte{p.op.Auth, p.op.ICV}
		}
		check := func(what string, i int) {
			before := append([]byte(nil), p.op.Text...)
			ops := []Op{p.op}
			e.Open(ops)
			if ops[0].Status != BadICV {
				t.Fatalf("%v/%v: flip %s[%d]: %v", c.enc, c.auth, what, i, ops[0].Status)
			}
			if c.enc != EncNull && len(p.orig) > 0 && bytes.Equal(p.op.Text, p.orig) {
				t.Fatalf("%v/%v: decrypted despite bad ICV", c.enc, c.auth)
			}
			if !s.AEAD() && !bytes.Equal(p.op.Text, before) {
				t.Fatalf("%v/%v: Text modified despite bad ICV", c.enc, c.auth)
			}
			copy(p.buf, sealed)
			copy(p.op.ICV, sealedICV)
			p.aad = sealedAAD
		}
		for ri, r := range regions {
			for i := range r {
				r[i] ^= 0x01 << (i % 8)
				check([]string{"a", "b", "c", "d"}[ri], i)
			}
		}
		if !s.AEAD() {
			p.op.SeqHi ^= 1
			check("seqhi", 0)
			p.op.SeqHi ^= 1
		}
		ops = []Op{p.op}
		e.Open(ops)
		if ops[0].Status != OK {
			t.Fatalf("%v/%v: restored packet: %v", c.enc, c.auth, ops[0].Status)
		}
	}
}

func TestBadLength(t *testing.T) {
	e := NewGoEngine()
	for _, c := range allCombos() {
		s := newTestSession(t, c)
		p := makePacket(s, 32, false, true, 1)
		op := p.op
		op.IV = append(op.IV, 0)
		op2 := p.op
		op2.ICV = append(op2.ICV, 0)
		ops := []Op{op, op2}
		if s.cipherBlock > 1 {
			op3 := p.op
			op3.Text = op3.Text[:len(op3.Text)-1]
			ops = append(ops, op3)
		}
		if s.Enc() == EncAESGMAC {
			op3 := p.op
			op3.Text = p.buf[:4]
			ops = append(ops, op3)
		}
		e.Open(ops)
		for i := range ops {
			if ops[i].Status != BadLength {
				t.Errorf("%v/%v open op %d: %v", c.enc, c.auth, i, ops[i].Status)
			}
		}
		e.Seal(ops)
		for i := range ops {
			if ops[i].Status != BadLength {
				t.Errorf("%v/%v seal op %d: %v", c.enc, c.auth, i, ops[i].Status)
			}
		}
	}
}

// GCM-8 must equal the 16-byte-tag GCM truncated, for random sizes.
func TestGCM8MatchesTruncatedGCM(t *testing.T) {
	e := NewGoEngine()
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		key := randKey([]int{20, 28, 36}[i%3])
		s8, _ := NewSession(EncAESGCM8, key, 0, nil)
		b, _ := aes.NewCipher(key[:len(key)-4])
		g, _ := cipher.NewGCM(b)
		pt := randKey(r.IntN(300))
		aad := randKey(r.IntN(40))
		var iv [8]byte
		rand.Read(iv[:])
		nonce := append(append([]byte{}, key[len(key)-4:]...), iv[:]...)
		want := g.Seal(nil, nonce, pt, aad)
		text := append([]byte(nil), pt...)
		icv := make([]byte, 8)
		ops := []Op{{Sess: s8, AAD: aad, IV: iv[:], Text: text, ICV: icv, IVCounter: uint64(iv[0])<<56 | uint64(iv[1])<<48 | uint64(iv[2])<<40 | uint64(iv[3])<<32 | uint64(iv[4])<<24 | uint64(iv[5])<<16 | uint64(iv[6])<<8 | uint64(iv[7])}}
		e.Seal(ops)
		if !bytes.Equal(text, want[:len(pt)]) || !bytes.Equal(icv, want[len(pt):len(pt)+8]) {
			t.Fatalf("len %d aad %d: mismatch", len(pt), len(aad))
		}
	}
}

func TestHMACMatchesStdlib(t *testing.T) {
	e := NewGoEngine()
	key := randKey(32)
	s, _ := NewSession(EncNull, nil, AuthHMACSHA256, key)
	for n := 0; n < 300; n += 7 {
		data := randKey(n)
		m := hmac.New(sha256.New, key)
		m.Write(data)
		m.Write([]byte{0, 0, 0, 9})
		want := m.Sum(nil)[:16]
		icv := make([]byte, 16)
		ops := []Op{{Sess: s, Auth: data, ICV: icv, ESN: true, SeqHi: 9}}
		e.Seal(ops)
		if !bytes.Equal(icv, want) {
			t.Fatalf("n=%d", n)
		}
	}
}

func TestWipe(t *testing.T) {
	s := newTestSession(t, combo{EncAESCBC, AuthHMACSHA1})
	inner := s.inner
	s.Wipe()
	for _, b := range inner {
		if b != 0 {
			t.Fatal("inner pad state not zeroed")
		}
	}
	p := makePacket(s, 32, false, true, 1)
	ops := []Op{p.op, {}}
	NewGoEngine().Seal(ops)
	if ops[0].Status != BadSession || ops[1].Status != BadSession {
		t.Fatal(ops[0].Status, ops[1].Status)
	}
	g := newTestSession(t, combo{EncAESGCM8, 0})
	g.Wipe()
	if g.gcmH != nil || g.salt != [4]byte{} {
		t.Fatal("gcm8 state not wiped")
	}
}

func TestZeroAllocs(t *testing.T) {
	e := NewGoEngine()
	for _, c := range allCombos() {
		s := newTestSession(t, c)
		var ps []*testPacket
		ops := make([]Op, 0, 8)
		for i := 0; i < 8; i++ {
			p := makePacket(s, 1400, i%2 == 0, i%3 != 0, uint64(i+1))
			ps = append(ps, p)
			ops = append(ops, p.op)
		}
		allocs := testing.AllocsPerRun(50, func() {
			e.Seal(ops)
			e.Open(ops)
		})
		if allocs != 0 {
			t.Errorf("%v/%v: %v allocs per Seal+Open burst", c.enc, c.auth, allocs)
		}
		for i := range ops {
			if ops[i].Status != OK {
				t.Errorf("%v/%v: %v", c.enc, c.auth, ops[i].Status)
			}
		}
	}
}
