package alg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"hash"
)

// Status is the outcome of one Op.
type Status uint8

// Op outcomes.
const (
	OK         Status = iota // sealed, or opened and verified
	BadICV                   // Open: integrity check failed; Text not decrypted
	BadLength                // wrong IV/ICV size, Text not a multiple of the cipher block, GMAC with Text
	BadSession               // nil or wiped session
)

var statusNames = [...]string{OK: "ok", BadICV: "bad-icv", BadLength: "bad-length", BadSession: "bad-session"}

// String names the status.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(?)"
}

// Op is one packet's crypto job; slices point into the packet buffer.
type Op struct {
	Sess      *Session
	AAD       []byte // AEAD additional data (ESP: SPI||SeqLo, or SPI||SeqHi||SeqLo with ESN); GMAC: the whole authenticated region
	IV        []byte // the explicit IV in the packet: written by Seal (CBC: random; CTR/GCM/GMAC/ChaCha: from IVCounter), read by Open
	Text      []byte // encrypted (Seal) / decrypted (Open) in place; empty for GMAC
	Auth      []byte // non-AEAD: region the ICV covers (ESP header, IV, ciphertext)
	SeqHi     uint32 // non-AEAD with ESN: appended to the ICV input (RFC 4303 §2.2.1)
	ESN       bool
	ICV       []byte // written by Seal, checked by Open (constant time)
	IVCounter uint64 // Seal: unique per SA and key (the ESP sequence number); counter-mode IVs are this value, big-endian
	Status    Status // set by Seal and Open
}

// Engine seals and opens bursts of ops. On BadICV, non-AEAD Text is left as
// ciphertext; AEAD implementations may zero it (never expose plaintext).
type Engine interface {
	Seal(ops []Op)
	Open(ops []Op)
}

// GoEngine is the pure-Go Engine. It holds per-core hash objects, scratch
// space and a CSPRNG for CBC IVs: create one per core; it is NOT safe for
// concurrent use.
type GoEngine struct {
	hashes [numHash]hashSlot
	rnd    ivSource

	nonce [12]byte
	ctr   [16]byte
	blk   [16]byte
	tag   [16]byte
	mac   [64]byte
	seqHi [4]byte
	ks    [512]byte // CTR keystream batch

	scratch []byte // AAD||pad||C for GCM-8, sealed copy when ICV is not adjacent to Text
}

type hashSlot struct {
	h hash.Hash
	u encoding.BinaryUnmarshaler
}

var _ Engine = (*GoEngine)(nil)

// NewGoEngine makes an engine for one core.
func NewGoEngine() *GoEngine {
	e := &GoEngine{scratch: make([]byte, 0, 16<<10)}
	for i, f := range hashNew {
		h := f()
		e.hashes[i] = hashSlot{h: h, u: h.(encoding.BinaryUnmarshaler)}
	}
	e.rnd.init()
	return e
}

// Seal runs every op's outbound transform; each op gets a Status.
func (e *GoEngine) Seal(ops []Op) {
	for i := range ops {
		op := &ops[i]
		s := op.Sess
		if s == nil {
			op.Status = BadSession
			continue
		}
		op.Status = s.seal(e, s, op)
	}
}

// Open runs every op's inbound transform; each op gets a Status.
func (e *GoEngine) Open(ops []Op) {
	for i := range ops {
		op := &ops[i]
		s := op.Sess
		if s == nil {
			op.Status = BadSession
			continue
		}
		op.Status = s.open(e, s, op)
	}
}

// scratchFor returns engine scratch of at least n bytes (grows rarely).
func (e *GoEngine) scratchFor(n int) []byte {
	if cap(e.scratch) < n {
		e.scratch = make([]byte, 0, n+n/4)
	}
	return e.scratch[:n]
}

// ---- non-AEAD: encrypt-then-MAC ----

func sealComposite(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen || len(op.Text)%s.cipherBlock != 0 {
		return BadLength
	}
	if s.ivFn != nil {
		s.ivFn(e, s, op)
	}
	if s.encFn != nil {
		s.encFn(e, s, op.IV, op.Text)
	}
	if s.macFn != nil {
		copy(op.ICV, s.macFn(e, s, op.Auth, e.esnTail(op)))
	}
	return OK
}

func openComposite(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen || len(op.Text)%s.cipherBlock != 0 {
		return BadLength
	}
	if s.macFn != nil {
		mac := s.macFn(e, s, op.Auth, e.esnTail(op))
		if subtle.ConstantTimeCompare(mac[:s.icvLen], op.ICV) != 1 {
			return BadICV
		}
	}
	if s.decFn != nil {
		s.decFn(e, s, op.IV, op.Text)
	}
	return OK
}

// esnTail is the implicit SeqHi appended to the ICV input with ESN.
func (e *GoEngine) esnTail(op *Op) []byte {
	if !op.ESN {
		return nil
	}
	binary.BigEndian.PutUint32(e.seqHi[:], op.SeqHi)
	return e.seqHi[:]
}

func randomIV(e *GoEngine, _ *Session, op *Op) { e.rnd.read(op.IV) }

func counterIV(_ *GoEngine, _ *Session, op *Op) { binary.BigEndian.PutUint64(op.IV, op.IVCounter) }

// cbcEncrypt: C_i = E(P_i ^ C_{i-1}), C_0 = IV, in place.
func cbcEncrypt(_ *GoEngine, s *Session, iv, t []byte) {
	b, bs := s.block, s.cipherBlock
	prev := iv
	for i := 0; i < len(t); i += bs {
		blk := t[i : i+bs]
		subtle.XORBytes(blk, blk, prev)
		b.Encrypt(blk, blk)
		prev = blk
	}
}

// cbcDecrypt works from the last block back so each C_{i-1} is still intact.
func cbcDecrypt(_ *GoEngine, s *Session, iv, t []byte) {
	b, bs := s.block, s.cipherBlock
	for i := len(t) - bs; i >= 0; i -= bs {
		blk := t[i : i+bs]
		b.Decrypt(blk, blk)
		if i == 0 {
			subtle.XORBytes(blk, blk, iv)
		} else {
			subtle.XORBytes(blk, blk, t[i-bs:i])
		}
	}
}

// ctrCrypt is RFC 3686: counter block = nonce(4) || IV(8) || BE32(1, 2, ...).
// That is GCM's counter layout: block 1 (GCM's J0) is one AES call, and
// blocks 2.. are the keystream GCM Seal XORs onto its input, at assembly
// speed (its tag is computed and ignored).
func ctrCrypt(e *GoEngine, s *Session, iv, t []byte) {
	copy(e.ctr[:4], s.salt[:])
	copy(e.ctr[4:12], iv)
	if len(t) <= 16 {
		e.ctrXOR(s.block, 1, t)
		return
	}
	e.ctrXOR(s.block, 1, t[:16])
	rest := t[16:]
	out := s.aeadC.Seal(e.scratchFor(len(rest) + 16)[:0], e.ctr[:12], rest, nil)
	copy(rest, out[:len(rest)])
}

// ctrXOR XORs t with the keystream E(e.ctr[:12] || BE32(c)), E(.. c+1), ...
// Keystream is made in batches of len(e.ks) bytes.
func (e *GoEngine) ctrXOR(b cipher.Block, c uint32, t []byte) {
	ks := e.ks[:]
	for len(t) > 0 {
		n := min(len(t), len(ks))
		m := (n + 15) &^ 15
		for i := 0; i < m; i += 16 {
			copy(ks[i:i+12], e.ctr[:12])
			binary.BigEndian.PutUint32(ks[i+12:i+16], c)
			c++
		}
		for i := 0; i < m; i += 16 {
			b.Encrypt(ks[i:i+16], ks[i:i+16])
		}
		subtle.XORBytes(t[:n], t[:n], ks[:n])
		t = t[n:]
	}
}

// ---- integrity ----

// hmacMAC = H(K^opad || H(K^ipad || a || b)) from the precomputed pad states.
func hmacMAC(e *GoEngine, s *Session, a, b []byte) []byte {
	hs := &e.hashes[s.hashIdx]
	hs.u.UnmarshalBinary(s.inner)
	hs.h.Write(a)
	if len(b) > 0 {
		hs.h.Write(b)
	}
	sum := hs.h.Sum(e.mac[:0])
	hs.u.UnmarshalBinary(s.outer)
	hs.h.Write(sum)
	return hs.h.Sum(e.mac[:0])
}

// cbcMAC is AES-XCBC-MAC (RFC 3566) and AES-CMAC (RFC 4493) over a || b:
// CBC-MAC whose last block is XORed with kFull if complete, else padded with
// 10* and XORed with kPart. Returns the 16-byte MAC in engine scratch.
func cbcMAC(e *GoEngine, s *Session, a, b []byte) []byte {
	c := s.macBlock
	x := e.mac[:16]
	clear(x)
	n := len(a) + len(b)
	last := 0
	if n > 0 {
		last = n - (n-1)/16*16 // 1..16 bytes in the final block
	}
	body := n - last
	blk := e.blk[:]
	for off := 0; off < body; off += 16 {
		if off+16 <= len(a) {
			subtle.XORBytes(x, x, a[off:off+16])
		} else {
			gather(blk, a, b, off)
			subtle.XORBytes(x, x, blk)
		}
		c.Encrypt(x, x)
	}
	clear(blk)
	gather(blk[:last], a, b, body)
	if last == 16 {
		subtle.XORBytes(x, x, s.kFull[:])
	} else {
		blk[last] = 0x80
		subtle.XORBytes(x, x, s.kPart[:])
	}
	subtle.XORBytes(x, x, blk)
	c.Encrypt(x, x)
	return x
}

// gather copies len(dst) bytes of a||b starting at off.
func gather(dst, a, b []byte, off int) {
	if off < len(a) {
		k := copy(dst, a[off:])
		copy(dst[k:], b)
		return
	}
	copy(dst, b[off-len(a):])
}

// ---- AEAD: AES-GCM-16/12 and ChaCha20-Poly1305 via cipher.AEAD ----

// aeadNonce is salt || IV (RFC 4106 §4, RFC 4543 §3.1, RFC 7634 §2): the
// callers checked the IV is the session's 8 bytes, so both are fixed-size
// moves.
func (e *GoEngine) aeadNonce(s *Session, iv []byte) []byte {
	*(*[4]byte)(e.nonce[:4]) = s.salt
	*(*[8]byte)(e.nonce[4:]) = [8]byte(iv[:8])
	return e.nonce[:]
}

// adjacent reports whether icv directly follows text in memory, so the AEAD
// can write and read text||tag in place.
func adjacent(text, icv []byte) bool {
	n := len(text)
	if len(icv) == 0 || cap(text)-n < len(icv) {
		return false
	}
	return &text[:n+1][n] == &icv[0]
}

func sealAEAD(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen {
		return BadLength
	}
	binary.BigEndian.PutUint64(op.IV, op.IVCounter)
	nonce := e.aeadNonce(s, op.IV)
	n := len(op.Text)
	if adjacent(op.Text, op.ICV) {
		s.aeadC.Seal(op.Text[:0], nonce, op.Text, op.AAD)
		return OK
	}
	out := s.aeadC.Seal(e.scratchFor(n + s.icvLen)[:0], nonce, op.Text, op.AAD)
	copy(op.Text, out[:n])
	copy(op.ICV, out[n:])
	return OK
}

func openAEAD(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen {
		return BadLength
	}
	nonce := e.aeadNonce(s, op.IV)
	n := len(op.Text)
	if adjacent(op.Text, op.ICV) {
		if _, err := s.aeadC.Open(op.Text[:0], nonce, op.Text[:n+s.icvLen], op.AAD); err != nil {
			return BadICV
		}
		return OK
	}
	buf := e.scratchFor(n + s.icvLen)
	copy(buf, op.Text)
	copy(buf[n:], op.ICV)
	if _, err := s.aeadC.Open(buf[:0], nonce, buf, op.AAD); err != nil {
		return BadICV
	}
	copy(op.Text, buf[:n])
	return OK
}

// ---- AES-GMAC (RFC 4543): GCM with empty plaintext, AAD = whole region ----

func sealGMAC(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen || len(op.Text) != 0 {
		return BadLength
	}
	binary.BigEndian.PutUint64(op.IV, op.IVCounter)
	tag := s.aeadC.Seal(e.tag[:0], e.aeadNonce(s, op.IV), nil, op.AAD)
	copy(op.ICV, tag)
	return OK
}

func openGMAC(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen || len(op.Text) != 0 {
		return BadLength
	}
	if _, err := s.aeadC.Open(e.tag[:0], e.aeadNonce(s, op.IV), op.ICV, op.AAD); err != nil {
		return BadICV
	}
	return OK
}

// ---- AES-GCM with an 8-byte ICV ----
//
// Go's GCM accepts tags of 12..16 bytes only. The tag is
// T = GHASH_H(A || C || len(A)||len(C)) ^ E(J0). We get GHASH at assembly speed
// by running the 16-byte-tag GCM as GMAC over A' = A || pad || C (empty
// plaintext), whose tag T' differs from T only in the length block:
// T = T' ^ ((L ^ L') · H), one multiplication by H with a 4-bit table.
// Seal: the 16-byte-tag GCM into scratch, copy C back and the first 8 tag
// bytes (about GCM-16 plus one copy). Open: copy A||pad||C to scratch, GHASH
// it (asm), one table multiply, compare, and only then decrypt by sealing C
// (GCM's CTR is its own inverse) into scratch and copying back: about twice
// the cost of GCM-16 Open, all at assembly speed.

func sealGCM8(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen {
		return BadLength
	}
	binary.BigEndian.PutUint64(op.IV, op.IVCounter)
	n := len(op.Text)
	out := s.aeadC.Seal(e.scratchFor(n + 16)[:0], e.aeadNonce(s, op.IV), op.Text, op.AAD)
	copy(op.Text, out[:n])
	copy(op.ICV, out[n:n+8])
	return OK
}

func openGCM8(e *GoEngine, s *Session, op *Op) Status {
	if len(op.IV) != s.ivLen || len(op.ICV) != s.icvLen {
		return BadLength
	}
	nonce := e.aeadNonce(s, op.IV)
	e.gcmTag(s, nonce, op.AAD, op.Text)
	if subtle.ConstantTimeCompare(e.tag[:8], op.ICV) != 1 {
		return BadICV
	}
	// CTR from J0+1 is what GCM Seal XORs onto its input: sealing the
	// ciphertext yields the plaintext (and a tag we ignore).
	n := len(op.Text)
	out := s.aeadC.Seal(e.scratchFor(n + 16)[:0], nonce, op.Text, nil)
	copy(op.Text, out[:n])
	return OK
}

// gcmTag leaves the full 16-byte GCM tag over (aad, ct) in e.tag.
func (e *GoEngine) gcmTag(s *Session, nonce, aad, ct []byte) {
	pa := (len(aad) + 15) &^ 15
	buf := e.scratchFor(pa + len(ct))
	copy(buf, aad)
	clear(buf[len(aad):pa])
	copy(buf[pa:], ct)
	s.aeadC.Seal(e.tag[:0], nonce, nil, buf)
	// L ^ L': the true length block is bits(A)||bits(C); GMAC used bits(A')||0.
	lo := uint64(len(aad)*8) ^ uint64(len(buf)*8)
	hi := uint64(len(ct) * 8)
	lo, hi = s.gcmH.mul(lo, hi)
	binary.BigEndian.PutUint64(e.tag[0:8], binary.BigEndian.Uint64(e.tag[0:8])^lo)
	binary.BigEndian.PutUint64(e.tag[8:16], binary.BigEndian.Uint64(e.tag[8:16])^hi)
}

// ghashTable holds i·H for the 16 4-bit values i (bit-reversed index), as
// (first 8 bytes, last 8 bytes) big-endian words, the GCM bit order.
type ghashTable [32]uint64

var ghashReduce = [16]uint64{
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
}

func rev4(i int) int {
	i = (i<<2)&0xc | (i>>2)&0x3
	return (i<<1)&0xa | (i>>1)&0x5
}

func newGHASHTable(h *[16]byte) *ghashTable {
	t := new(ghashTable)
	x0, x1 := binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:])
	t[2*rev4(1)], t[2*rev4(1)+1] = x0, x1
	for i := 2; i < 16; i += 2 {
		a0, a1 := t[2*rev4(i/2)], t[2*rev4(i/2)+1]
		// double: multiply by x (a right shift in GCM's reflected order)
		d0, d1 := a0>>1, a1>>1|a0<<63
		if a1&1 == 1 {
			d0 ^= 0xe100000000000000
		}
		t[2*rev4(i)], t[2*rev4(i)+1] = d0, d1
		t[2*rev4(i+1)], t[2*rev4(i+1)+1] = d0^x0, d1^x1
	}
	return t
}

// mul returns y·H for y = (y0 || y1).
func (t *ghashTable) mul(y0, y1 uint64) (uint64, uint64) {
	var z0, z1 uint64
	for i := 0; i < 2; i++ {
		w := y1
		if i == 1 {
			w = y0
		}
		for j := 0; j < 64; j += 4 {
			msw := z1 & 0xf
			z1 = z1>>4 | z0<<60
			z0 = z0>>4 ^ ghashReduce[msw]<<48
			k := int(w & 0xf)
			z0 ^= t[2*k]
			z1 ^= t[2*k+1]
			w >>= 4
		}
	}
	return z0, z1
}

// ---- per-core CSPRNG for CBC IVs ----

// ivSource is AES-128-CTR keystream keyed from crypto/rand, refilled in chunks.
type ivSource struct {
	stream cipher.Stream
	buf    [4096]byte
	pos    int
}

func (r *ivSource) init() {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		panic("alg: crypto/rand failed: " + err.Error())
	}
	b, _ := aes.NewCipher(seed[:16])
	r.stream = cipher.NewCTR(b, seed[16:])
	clear(seed[:])
	r.pos = len(r.buf)
}

func (r *ivSource) read(p []byte) {
	if r.pos+len(p) > len(r.buf) {
		clear(r.buf[:])
		r.stream.XORKeyStream(r.buf[:], r.buf[:])
		r.pos = 0
	}
	copy(p, r.buf[r.pos:])
	r.pos += len(p)
}
