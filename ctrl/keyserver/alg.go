package keyserver

import (
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// encNumber is an algorithm's sadb_sa_encrypt number in dialect d.
func encNumber(d pfkey.Dialect, e *alg.EncDesc) int {
	if d == pfkey.FreeBSD {
		return e.FreeBSD
	}
	return e.Linux
}

// authNumber is an algorithm's sadb_sa_auth number in dialect d.
func authNumber(d pfkey.Dialect, a *alg.AuthDesc) int {
	if d == pfkey.FreeBSD {
		return a.FreeBSD
	}
	return a.Linux
}

// wireEnc is the sadb_sa_encrypt of an SA (0 when it has none or the
// dialect has no number for it).
func wireEnc(d pfkey.Dialect, sa *sad.SA) uint8 {
	if sa.Proto == sad.ProtoIPComp {
		n, _ := pfkey.CompAlgToWire(d, sa.Comp)
		return n
	}
	n, ok := pfkey.EncAlgToWire(d, sa.Enc)
	if !ok {
		return pfkey.EAlgNone
	}
	return n
}

// wireAuth is the sadb_sa_auth of an SA (0: none).
func wireAuth(d pfkey.Dialect, sa *sad.SA) uint8 {
	if sa.Auth == alg.AuthNull {
		return pfkey.AAlgNone
	}
	n, ok := pfkey.AuthAlgToWire(d, sa.Auth)
	if !ok {
		return pfkey.AAlgNone
	}
	return n
}

// supported lists what REGISTER's reply carries: every algorithm the
// dialect numbers, with key sizes in bits (AEAD and CTR keys include
// their 4-byte salt, as FreeBSD reports them).
func supported(d pfkey.Dialect) (auth, enc *pfkey.Supported) {
	auth, enc = &pfkey.Supported{}, &pfkey.Supported{}
	for _, a := range alg.Auths() {
		n := authNumber(d, a)
		if n == alg.NoNumber || a.ID == alg.AuthNull {
			continue
		}
		auth.Algs = append(auth.Algs, pfkey.Alg{ID: uint8(n), MinBits: uint16(a.Key.Min), MaxBits: uint16(a.Key.Max)})
	}
	for _, e := range alg.Encs() {
		n := encNumber(d, e)
		if n == alg.NoNumber {
			continue
		}
		enc.Algs = append(enc.Algs, pfkey.Alg{ID: uint8(n), IVLen: uint8(e.IVLen),
			MinBits: uint16(e.Key.Min), MaxBits: uint16(e.Key.Max)})
	}
	return auth, enc
}

// proposal is an ACQUIRE's PROPOSAL: the combinations we can key, AEAD
// first (the strongest), then each cipher with each HMAC.
func proposal(d pfkey.Dialect, proto sad.Proto) *pfkey.Proposal {
	p := &pfkey.Proposal{Replay: 32}
	authComb := func(e uint8, emin, emax int) {
		for _, a := range alg.Auths() {
			n := authNumber(d, a)
			if n == alg.NoNumber || a.ID == alg.AuthNull {
				continue
			}
			p.Combs = append(p.Combs, pfkey.Comb{Encrypt: e, EncryptMinBits: uint16(emin), EncryptMaxBits: uint16(emax),
				Auth: uint8(n), AuthMinBits: uint16(a.Key.Min), AuthMaxBits: uint16(a.Key.Max)})
		}
	}
	switch proto {
	case sad.ProtoAH:
		authComb(pfkey.EAlgNone, 0, 0)
	case sad.ProtoIPComp:
		p.Combs = append(p.Combs, pfkey.Comb{Encrypt: pfkey.CAlgDeflate})
	default:
		for _, e := range alg.Encs() {
			if n := encNumber(d, e); n != alg.NoNumber && e.AEAD {
				p.Combs = append(p.Combs, pfkey.Comb{Encrypt: uint8(n),
					EncryptMinBits: uint16(e.Key.Min), EncryptMaxBits: uint16(e.Key.Max)})
			}
		}
		for _, e := range alg.Encs() {
			if n := encNumber(d, e); n != alg.NoNumber && !e.AEAD && e.ID != alg.EncNull {
				authComb(uint8(n), e.Key.Min, e.Key.Max)
			}
		}
	}
	return p
}
