package pfkey

import "github.com/fastipsec/fastipsec/ipsec/alg"

// EncAlgFromWire maps a sadb_sa_encrypt / sadb_alg_id number of dialect d
// to fastipsec's encryption algorithm. EAlgNone (0) maps to
// alg.EncInvalid with ok true: "no encryption" (AH SAs). ok is false for
// numbers fastipsec does not implement.
func EncAlgFromWire(d Dialect, n uint8) (alg.EncID, bool) {
	if n == EAlgNone {
		return alg.EncInvalid, true
	}
	var desc *alg.EncDesc
	var ok bool
	switch d {
	case FreeBSD:
		desc, ok = alg.EncByFreeBSD(int(n))
	case Linux:
		desc, ok = alg.EncByLinux(int(n))
	}
	if !ok {
		return alg.EncInvalid, false
	}
	return desc.ID, true
}

// EncAlgToWire maps an encryption algorithm to dialect d's number.
// alg.EncInvalid maps to EAlgNone; ok is false when the dialect has no
// number for id (e.g. ChaCha20-Poly1305 on Linux).
func EncAlgToWire(d Dialect, id alg.EncID) (uint8, bool) {
	if id == alg.EncInvalid {
		return EAlgNone, true
	}
	desc := id.Desc()
	if desc == nil {
		return 0, false
	}
	return wireNumber(d, desc.FreeBSD, desc.Linux)
}

// AuthAlgFromWire maps a sadb_sa_auth / sadb_alg_id number of dialect d to
// fastipsec's integrity algorithm. AAlgNone (0) maps to alg.AuthInvalid
// with ok true: "no separate integrity" (AEAD ESP, IPComp).
func AuthAlgFromWire(d Dialect, n uint8) (alg.AuthID, bool) {
	if n == AAlgNone {
		return alg.AuthInvalid, true
	}
	var desc *alg.AuthDesc
	var ok bool
	switch d {
	case FreeBSD:
		desc, ok = alg.AuthByFreeBSD(int(n))
	case Linux:
		desc, ok = alg.AuthByLinux(int(n))
	}
	if !ok {
		return alg.AuthInvalid, false
	}
	return desc.ID, true
}

// AuthAlgToWire maps an integrity algorithm to dialect d's number.
// alg.AuthInvalid maps to AAlgNone; ok is false when the dialect has no
// number for id (AES-CMAC has none in either).
func AuthAlgToWire(d Dialect, id alg.AuthID) (uint8, bool) {
	if id == alg.AuthInvalid {
		return AAlgNone, true
	}
	desc := id.Desc()
	if desc == nil {
		return 0, false
	}
	return wireNumber(d, desc.FreeBSD, desc.Linux)
}

// CompAlgFromWire maps an IPComp sadb_sa_encrypt number (SADB_X_CALG_*) to
// fastipsec's IPComp identifier, the number sad.Config.Comp holds. Only
// deflate (2) is implemented; both dialects number it 2.
func CompAlgFromWire(d Dialect, n uint8) (uint8, bool) {
	if (d == FreeBSD || d == Linux) && n == CAlgDeflate {
		return CAlgDeflate, true
	}
	return 0, false
}

// CompAlgToWire maps fastipsec's IPComp identifier to dialect d's
// SADB_X_CALG_* number (deflate only).
func CompAlgToWire(d Dialect, c uint8) (uint8, bool) {
	return CompAlgFromWire(d, c)
}

func wireNumber(d Dialect, freebsd, linux int) (uint8, bool) {
	n := alg.NoNumber
	switch d {
	case FreeBSD:
		n = freebsd
	case Linux:
		n = linux
	}
	if n < 0 || n > 255 {
		return 0, false
	}
	return uint8(n), true
}
