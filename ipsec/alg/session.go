package alg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Session is one SA's keyed transform. NewSession chooses and keys it once;
// afterwards it is immutable and safe to share between cores. Wipe it only
// when no core can reach it any more.
type Session struct {
	enc  *EncDesc
	auth *AuthDesc

	ivLen, blockLen, icvLen int
	cipherBlock             int // Text must be a multiple of this (1 for stream modes)
	aead                    bool
	aadOnly                 bool // AES-GMAC: everything is AAD, nothing encrypted

	// Chosen at NewSession; the hot path calls these and never looks at IDs.
	seal func(e *GoEngine, s *Session, op *Op) Status
	open func(e *GoEngine, s *Session, op *Op) Status

	// Non-AEAD pieces used by sealComposite/openComposite.
	ivFn  func(e *GoEngine, s *Session, op *Op)             // nil: no IV
	encFn func(e *GoEngine, s *Session, iv, t []byte)       // nil: NULL encryption
	decFn func(e *GoEngine, s *Session, iv, t []byte)       // nil: NULL encryption
	macFn func(e *GoEngine, s *Session, a, b []byte) []byte // nil: no integrity; returns full MAC in engine scratch

	block cipher.Block // AES or 3DES for CBC/CTR, AES for GCM-8
	aeadC cipher.AEAD  // GCM (16 or 12-byte tag, or 16 for GCM-8/GMAC), ChaCha20-Poly1305
	salt  [4]byte      // CTR nonce / AEAD salt

	gcmH *ghashTable // GCM-8: multiplication by H

	macBlock   cipher.Block // XCBC (keyed with K1) or CMAC (keyed with K)
	kFull      [16]byte     // XCBC K2 / CMAC K1: last block complete
	kPart      [16]byte     // XCBC K3 / CMAC K2: last block padded
	hashIdx    int          // which per-engine hash object HMAC uses
	inner      []byte       // marshaled hash state after absorbing key^ipad
	outer      []byte       // marshaled hash state after absorbing key^opad
	wipedState bool
}

// Session errors (wrapped with details by NewSession).
var (
	ErrUnknownAlgorithm = errors.New("alg: unknown algorithm")
	ErrKeyLength        = errors.New("alg: bad key length")
	ErrCombination      = errors.New("alg: invalid algorithm combination")
)

// NewSession validates the keys and builds the keyed transform for one SA.
// AEAD algorithms (GCM, GMAC, ChaCha20-Poly1305) take auth AuthNull or
// AuthInvalid and no auth key. AH uses enc EncNull. NULL with NULL is refused
// (RFC 4303 §3.2). Keys are copied; the caller may wipe its copies.
func NewSession(enc EncID, encKey []byte, auth AuthID, authKey []byte) (*Session, error) {
	ed := enc.Desc()
	if ed == nil {
		return nil, fmt.Errorf("%w: encryption %v", ErrUnknownAlgorithm, enc)
	}
	if !ed.Key.Valid(len(encKey) * 8) {
		return nil, fmt.Errorf("%w: %s encryption key is %d bits, want %s", ErrKeyLength, ed.Name, len(encKey)*8, ed.Key)
	}
	if ed.AEAD {
		if auth != AuthInvalid && auth != AuthNull {
			return nil, fmt.Errorf("%w: %s is a combined mode and takes no integrity algorithm (got %v)", ErrCombination, ed.Name, auth)
		}
		if len(authKey) != 0 {
			return nil, fmt.Errorf("%w: %s takes no integrity key", ErrCombination, ed.Name)
		}
		auth = AuthNull
	}
	ad := auth.Desc()
	if ad == nil {
		return nil, fmt.Errorf("%w: integrity %v", ErrUnknownAlgorithm, auth)
	}
	if !ad.Key.Valid(len(authKey) * 8) {
		return nil, fmt.Errorf("%w: %s integrity key is %d bits, want %s", ErrKeyLength, ad.Name, len(authKey)*8, ad.Key)
	}
	if enc == EncNull && auth == AuthNull {
		return nil, fmt.Errorf("%w: null encryption with null integrity (RFC 4303 §3.2)", ErrCombination)
	}

	s := &Session{enc: ed, auth: ad, ivLen: ed.IVLen, blockLen: ed.BlockLen, cipherBlock: 1, aead: ed.AEAD}
	if ed.AEAD {
		s.icvLen = ed.ICVLen
	} else {
		s.icvLen = ad.ICVLen
	}
	key := encKey[:len(encKey)-ed.SaltLen]
	copy(s.salt[:], encKey[len(encKey)-ed.SaltLen:])

	var err error
	switch enc {
	case EncNull:
	case EncAESCBC:
		if s.block, err = aes.NewCipher(key); err != nil {
			return nil, err
		}
		s.cipherBlock = aes.BlockSize
		s.ivFn, s.encFn, s.decFn = randomIV, cbcEncrypt, cbcDecrypt
	case Enc3DESCBC:
		if s.block, err = des.NewTripleDESCipher(key); err != nil {
			return nil, err
		}
		s.cipherBlock = des.BlockSize
		s.ivFn, s.encFn, s.decFn = randomIV, cbcEncrypt, cbcDecrypt
	case EncAESCTR:
		if s.block, err = aes.NewCipher(key); err != nil {
			return nil, err
		}
		if s.aeadC, err = cipher.NewGCM(s.block); err != nil {
			return nil, err
		}
		s.ivFn, s.encFn, s.decFn = counterIV, ctrCrypt, ctrCrypt
	case EncAESGCM16, EncAESGCM12:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if s.aeadC, err = cipher.NewGCMWithTagSize(b, ed.ICVLen); err != nil {
			return nil, err
		}
		s.seal, s.open = sealAEAD, openAEAD
	case EncAESGCM8:
		if s.block, err = aes.NewCipher(key); err != nil {
			return nil, err
		}
		if s.aeadC, err = cipher.NewGCM(s.block); err != nil {
			return nil, err
		}
		var h [16]byte
		s.block.Encrypt(h[:], h[:])
		s.gcmH = newGHASHTable(&h)
		clear(h[:])
		s.seal, s.open = sealGCM8, openGCM8
	case EncAESGMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if s.aeadC, err = cipher.NewGCM(b); err != nil {
			return nil, err
		}
		s.seal, s.open = sealGMAC, openGMAC
		s.aadOnly = true
	case EncChaCha20Poly1305:
		if s.aeadC, err = chacha20poly1305.New(key); err != nil {
			return nil, err
		}
		s.seal, s.open = sealAEAD, openAEAD
	default:
		return nil, fmt.Errorf("%w: encryption %v", ErrUnknownAlgorithm, enc)
	}

	switch auth {
	case AuthNull:
	case AuthHMACMD5:
		s.initHMAC(hashMD5, md5.New, authKey)
	case AuthHMACSHA1:
		s.initHMAC(hashSHA1, sha1.New, authKey)
	case AuthHMACSHA256:
		s.initHMAC(hashSHA256, sha256.New, authKey)
	case AuthHMACSHA384:
		s.initHMAC(hashSHA384, sha512.New384, authKey)
	case AuthHMACSHA512:
		s.initHMAC(hashSHA512, sha512.New, authKey)
	case AuthAESXCBC:
		if err := s.initXCBC(authKey); err != nil {
			return nil, err
		}
	case AuthAESCMAC:
		if err := s.initCMAC(authKey); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: integrity %v", ErrUnknownAlgorithm, auth)
	}
	if !s.aead {
		s.seal, s.open = sealComposite, openComposite
	}
	return s, nil
}

// Indexes of the per-engine hash objects.
const (
	hashMD5 = iota
	hashSHA1
	hashSHA256
	hashSHA384
	hashSHA512
	numHash
)

var hashNew = [numHash]func() hash.Hash{md5.New, sha1.New, sha256.New, sha512.New384, sha512.New}

// initHMAC precomputes the hash states after key^ipad and key^opad (RFC 2104)
// so that a packet costs UnmarshalBinary + Write + Sum, never hmac.New.
func (s *Session) initHMAC(idx int, newHash func() hash.Hash, key []byte) {
	h := newHash()
	bs := h.BlockSize()
	pad := make([]byte, bs)
	if len(key) > bs {
		h.Write(key)
		copy(pad, h.Sum(nil))
		h.Reset()
	} else {
		copy(pad, key)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	h.Write(pad)
	s.inner, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	h.Reset()
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Write(pad)
	s.outer, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	clear(pad)
	h.Reset()
	s.hashIdx = idx
	s.macFn = hmacMAC
}

// initXCBC derives K1, K2, K3 (RFC 3566 §4): Ki = E_K(0xi repeated 16 times).
func (s *Session) initXCBC(key []byte) error {
	b, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	var k1 [16]byte
	for i := range k1 {
		k1[i], s.kFull[i], s.kPart[i] = 1, 2, 3
	}
	b.Encrypt(k1[:], k1[:])
	b.Encrypt(s.kFull[:], s.kFull[:])
	b.Encrypt(s.kPart[:], s.kPart[:])
	s.macBlock, err = aes.NewCipher(k1[:])
	clear(k1[:])
	s.macFn = cbcMAC
	return err
}

// initCMAC derives the subkeys K1 = dbl(E_K(0)), K2 = dbl(K1) (RFC 4493 §2.3).
func (s *Session) initCMAC(key []byte) (err error) {
	if s.macBlock, err = aes.NewCipher(key); err != nil {
		return err
	}
	var l [16]byte
	s.macBlock.Encrypt(l[:], l[:])
	dbl(&s.kFull, &l)
	dbl(&s.kPart, &s.kFull)
	clear(l[:])
	s.macFn = cbcMAC
	return nil
}

// dbl multiplies by x in GF(2^128) with the CMAC polynomial (Rb = 0x87).
func dbl(dst, src *[16]byte) {
	msb := src[0] >> 7
	for i := 0; i < 15; i++ {
		dst[i] = src[i]<<1 | src[i+1]>>7
	}
	dst[15] = src[15]<<1 ^ (0x87 & -msb)
}

// Enc returns the session's encryption algorithm.
func (s *Session) Enc() EncID { return s.enc.ID }

// Auth returns the session's integrity algorithm (AuthNull for AEAD).
func (s *Session) Auth() AuthID { return s.auth.ID }

// IVLen is the explicit IV length in each packet.
func (s *Session) IVLen() int { return s.ivLen }

// BlockLen is the ESP padding alignment: the cipher block size for CBC,
// 4 for stream, counter and AEAD modes.
func (s *Session) BlockLen() int { return s.blockLen }

// ICVLen is the ICV length in each packet (0 without integrity).
func (s *Session) ICVLen() int { return s.icvLen }

// AEAD reports whether the session is a combined mode (Op.AAD, no Op.Auth).
func (s *Session) AEAD() bool { return s.aead }

// AADOnly reports an AEAD session that encrypts nothing and authenticates
// the whole ESP region as additional data (AES-GMAC, RFC 4543 §3.2):
// Op.AAD covers header, IV and payload, Op.Text is empty.
func (s *Session) AADOnly() bool { return s.aadOnly }

// Wipe zeroes the key material the session holds: salt, HMAC pad states,
// XCBC/CMAC subkeys and the GHASH table, and drops the cipher objects. Go's
// crypto packages do not expose their expanded key schedules, so those are
// released to the garbage collector rather than zeroed. After Wipe the
// session must not be used; ops on it get BadSession.
func (s *Session) Wipe() {
	clear(s.salt[:])
	clear(s.kFull[:])
	clear(s.kPart[:])
	clear(s.inner)
	clear(s.outer)
	if s.gcmH != nil {
		clear(s.gcmH[:])
	}
	s.inner, s.outer, s.gcmH = nil, nil, nil
	s.block, s.aeadC, s.macBlock = nil, nil, nil
	s.seal, s.open = sealWiped, sealWiped
	s.ivFn, s.encFn, s.decFn, s.macFn = nil, nil, nil, nil
	s.wipedState = true
}

func sealWiped(*GoEngine, *Session, *Op) Status { return BadSession }
