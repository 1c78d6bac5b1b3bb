// Package alg is the crypto groundwork under ESP and AH: a registry of the
// IPsec algorithms with their PF_KEY numbers and sizes, keyed per-SA
// Sessions, and a burst crypto Engine that seals and opens packets in place.
//
// The flow, from SA install to the hot path:
//
//	control plane                         one core's dataplane
//	-------------                         --------------------
//	EncByName("aes-gcm-16")   ┐
//	AuthByFreeBSD(n) ...      ├─> NewSession(enc, key, auth, key)
//	                          ┘      validates keys, builds ciphers, HMAC pad
//	                                 states and XCBC/CMAC subkeys, picks the
//	                                 seal/open functions ONCE
//	                                       │ shared, immutable
//	                                       ▼
//	                              ops[i] = Op{Sess, AAD, IV, Text, Auth, ICV, ...}
//	                              eng.Seal(ops) / eng.Open(ops)   (eng: one GoEngine per core)
//	                                       │
//	                                       ▼
//	                              ops[i].Status: OK, BadICV, BadLength
//
// Seal (non-AEAD): write IV, encrypt Text in place, then ICV = MAC(Auth [|| SeqHi]).
// Open (non-AEAD): check lengths, verify the ICV first (constant time), decrypt only
// if it verified. AEAD algorithms (AES-GCM, ChaCha20-Poly1305, AES-GMAC) do both in
// one pass with nonce = salt || IV.
//
// The Engine interface carries no Go-crypto types so that a DPDK/intel-ipsec-mb
// engine can implement it as well. Sessions are safe to share between cores;
// a GoEngine is per core and not safe for concurrent use.
package alg

import (
	"fmt"
	"strings"
)

// EncID names an encryption (or combined-mode) algorithm. The numbers are our
// own; use the Desc lookups to map PF_KEY numbers and setkey names.
type EncID uint8

// Encryption algorithms. The zero value is invalid.
const (
	EncInvalid          EncID = iota
	EncNull                   // RFC 2410
	EncAESCBC                 // RFC 3602
	EncAESCTR                 // RFC 3686
	Enc3DESCBC                // RFC 2451
	EncAESGCM16               // RFC 4106, 16-byte ICV
	EncAESGCM12               // RFC 4106, 12-byte ICV
	EncAESGCM8                // RFC 4106, 8-byte ICV
	EncAESGMAC                // RFC 4543, NULL encryption with GMAC integrity
	EncChaCha20Poly1305       // RFC 7634
	numEnc
)

// NumEnc bounds EncID values: per-algorithm tables can be [NumEnc]T.
const NumEnc = int(numEnc)

// AuthID names an integrity algorithm. The zero value is invalid (AEAD
// sessions accept it as "no separate integrity algorithm").
type AuthID uint8

// Integrity algorithms.
const (
	AuthInvalid    AuthID = iota
	AuthNull              // no integrity (ESP with encryption only, or AEAD)
	AuthHMACMD5           // RFC 2403, HMAC-MD5-96
	AuthHMACSHA1          // RFC 2404, HMAC-SHA1-96
	AuthHMACSHA256        // RFC 4868, HMAC-SHA-256-128
	AuthHMACSHA384        // RFC 4868, HMAC-SHA-384-192
	AuthHMACSHA512        // RFC 4868, HMAC-SHA-512-256
	AuthAESXCBC           // RFC 3566, AES-XCBC-MAC-96
	AuthAESCMAC           // RFC 4494, AES-CMAC-96
	numAuth
)

// NoNumber marks a PF_KEY number that the platform does not define.
const NoNumber = -1

// KeySizes says which key lengths (in bits) an algorithm accepts.
type KeySizes struct {
	Min, Max int   // inclusive range
	Allowed  []int // if non-nil, only these sizes; otherwise any multiple of 8 in [Min, Max]
}

// Valid reports whether a key of bits bits is acceptable.
func (k KeySizes) Valid(bits int) bool {
	if bits < k.Min || bits > k.Max || bits%8 != 0 {
		return false
	}
	if k.Allowed == nil {
		return true
	}
	for _, a := range k.Allowed {
		if a == bits {
			return true
		}
	}
	return false
}

// String renders the sizes for error messages, e.g. "160, 224 or 288".
func (k KeySizes) String() string {
	if k.Allowed == nil {
		return fmt.Sprintf("%d to %d", k.Min, k.Max)
	}
	var b strings.Builder
	for i, a := range k.Allowed {
		switch {
		case i == 0:
		case i == len(k.Allowed)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", a)
	}
	return b.String()
}

// EncDesc describes an encryption or combined-mode algorithm.
type EncDesc struct {
	ID       EncID
	Name     string   // canonical setkey(8) name
	Aliases  []string // other setkey/ipsec-tools/Linux XFRM names
	FreeBSD  int      // SADB_EALG_* / SADB_X_EALG_* in FreeBSD net/pfkeyv2.h, or NoNumber
	Linux    int      // SADB_EALG_* / SADB_X_EALG_* in linux/pfkeyv2.h, or NoNumber
	Key      KeySizes // in bits; AEAD and CTR keys include the 4-byte salt at the end
	SaltLen  int      // bytes of salt/nonce at the end of the key
	IVLen    int      // explicit IV bytes in each packet
	BlockLen int      // ESP padding alignment (4 for stream and AEAD modes)
	ICVLen   int      // AEAD only: the tag length; 0 otherwise
	AEAD     bool     // combined mode: needs no separate integrity algorithm
	RFC      string
}

// AuthDesc describes an integrity algorithm.
type AuthDesc struct {
	ID      AuthID
	Name    string
	Aliases []string
	FreeBSD int // SADB_AALG_* / SADB_X_AALG_*, or NoNumber
	Linux   int
	Key     KeySizes // in bits
	ICVLen  int      // truncated ICV bytes in each packet
	RFC     string
}

var aeadKey = KeySizes{Min: 160, Max: 288, Allowed: []int{160, 224, 288}}

var encTable = [numEnc]EncDesc{
	EncNull: {ID: EncNull, Name: "null", Aliases: []string{"ecb(cipher_null)"},
		FreeBSD: 11, Linux: 11, Key: KeySizes{Min: 0, Max: 2048},
		IVLen: 0, BlockLen: 4, RFC: "RFC 2410"},
	EncAESCBC: {ID: EncAESCBC, Name: "aes-cbc", Aliases: []string{"rijndael-cbc", "aes", "cbc(aes)"},
		FreeBSD: 12, Linux: 12, Key: KeySizes{Min: 128, Max: 256, Allowed: []int{128, 192, 256}},
		IVLen: 16, BlockLen: 16, RFC: "RFC 3602"},
	EncAESCTR: {ID: EncAESCTR, Name: "aes-ctr", Aliases: []string{"rfc3686(ctr(aes))"},
		FreeBSD: 13, Linux: 13, Key: aeadKey, SaltLen: 4,
		IVLen: 8, BlockLen: 4, RFC: "RFC 3686"},
	Enc3DESCBC: {ID: Enc3DESCBC, Name: "3des-cbc", Aliases: []string{"des3-cbc", "cbc(des3_ede)"},
		FreeBSD: 3, Linux: 3, Key: KeySizes{Min: 192, Max: 192, Allowed: []int{192}},
		IVLen: 8, BlockLen: 8, RFC: "RFC 2451"},
	EncAESGCM16: {ID: EncAESGCM16, Name: "aes-gcm-16", Aliases: []string{"aes-gcm", "rfc4106(gcm(aes))"},
		FreeBSD: 20, Linux: 20, Key: aeadKey, SaltLen: 4,
		IVLen: 8, BlockLen: 4, ICVLen: 16, AEAD: true, RFC: "RFC 4106"},
	EncAESGCM12: {ID: EncAESGCM12, Name: "aes-gcm-12",
		FreeBSD: 19, Linux: 19, Key: aeadKey, SaltLen: 4,
		IVLen: 8, BlockLen: 4, ICVLen: 12, AEAD: true, RFC: "RFC 4106"},
	EncAESGCM8: {ID: EncAESGCM8, Name: "aes-gcm-8",
		FreeBSD: 18, Linux: 18, Key: aeadKey, SaltLen: 4,
		IVLen: 8, BlockLen: 4, ICVLen: 8, AEAD: true, RFC: "RFC 4106"},
	EncAESGMAC: {ID: EncAESGMAC, Name: "aes-gmac", Aliases: []string{"null-aes-gmac", "rfc4543(gcm(aes))"},
		FreeBSD: 23, Linux: 23, Key: aeadKey, SaltLen: 4,
		IVLen: 8, BlockLen: 4, ICVLen: 16, AEAD: true, RFC: "RFC 4543"},
	EncChaCha20Poly1305: {ID: EncChaCha20Poly1305, Name: "chacha20-poly1305",
		Aliases: []string{"rfc7539esp(chacha20,poly1305)"},
		FreeBSD: 15, Linux: NoNumber, Key: KeySizes{Min: 288, Max: 288, Allowed: []int{288}}, SaltLen: 4,
		IVLen: 8, BlockLen: 4, ICVLen: 16, AEAD: true, RFC: "RFC 7634"},
}

var authTable = [numAuth]AuthDesc{
	AuthNull: {ID: AuthNull, Name: "null", Aliases: []string{"digest_null"},
		FreeBSD: 251, Linux: 251, Key: KeySizes{Min: 0, Max: 2048}, RFC: "RFC 4303"},
	AuthHMACMD5: {ID: AuthHMACMD5, Name: "hmac-md5", Aliases: []string{"hmac(md5)"},
		FreeBSD: 2, Linux: 2, Key: KeySizes{Min: 128, Max: 128, Allowed: []int{128}}, ICVLen: 12, RFC: "RFC 2403"},
	AuthHMACSHA1: {ID: AuthHMACSHA1, Name: "hmac-sha1", Aliases: []string{"hmac(sha1)"},
		FreeBSD: 3, Linux: 3, Key: KeySizes{Min: 160, Max: 160, Allowed: []int{160}}, ICVLen: 12, RFC: "RFC 2404"},
	AuthHMACSHA256: {ID: AuthHMACSHA256, Name: "hmac-sha2-256", Aliases: []string{"hmac-sha256", "hmac(sha256)"},
		FreeBSD: 5, Linux: 5, Key: KeySizes{Min: 256, Max: 256, Allowed: []int{256}}, ICVLen: 16, RFC: "RFC 4868"},
	AuthHMACSHA384: {ID: AuthHMACSHA384, Name: "hmac-sha2-384", Aliases: []string{"hmac-sha384", "hmac(sha384)"},
		FreeBSD: 6, Linux: 6, Key: KeySizes{Min: 384, Max: 384, Allowed: []int{384}}, ICVLen: 24, RFC: "RFC 4868"},
	AuthHMACSHA512: {ID: AuthHMACSHA512, Name: "hmac-sha2-512", Aliases: []string{"hmac-sha512", "hmac(sha512)"},
		FreeBSD: 7, Linux: 7, Key: KeySizes{Min: 512, Max: 512, Allowed: []int{512}}, ICVLen: 32, RFC: "RFC 4868"},
	AuthAESXCBC: {ID: AuthAESXCBC, Name: "aes-xcbc-mac", Aliases: []string{"aes-xcbc", "xcbc(aes)"},
		FreeBSD: 9, Linux: 9, Key: KeySizes{Min: 128, Max: 128, Allowed: []int{128}}, ICVLen: 12, RFC: "RFC 3566"},
	AuthAESCMAC: {ID: AuthAESCMAC, Name: "aes-cmac", Aliases: []string{"aes-cmac-96", "cmac(aes)"},
		FreeBSD: NoNumber, Linux: NoNumber, Key: KeySizes{Min: 128, Max: 128, Allowed: []int{128}}, ICVLen: 12, RFC: "RFC 4494"},
}

// Encs returns the descriptors of every encryption algorithm, in EncID order.
func Encs() []*EncDesc {
	out := make([]*EncDesc, 0, numEnc-1)
	for i := EncNull; i < numEnc; i++ {
		out = append(out, &encTable[i])
	}
	return out
}

// Auths returns the descriptors of every integrity algorithm, in AuthID order.
func Auths() []*AuthDesc {
	out := make([]*AuthDesc, 0, numAuth-1)
	for i := AuthNull; i < numAuth; i++ {
		out = append(out, &authTable[i])
	}
	return out
}

// Desc returns the descriptor of id, or nil if id is invalid.
func (id EncID) Desc() *EncDesc {
	if id == EncInvalid || id >= numEnc {
		return nil
	}
	return &encTable[id]
}

// Desc returns the descriptor of id, or nil if id is invalid.
func (id AuthID) Desc() *AuthDesc {
	if id == AuthInvalid || id >= numAuth {
		return nil
	}
	return &authTable[id]
}

// String returns the canonical name, or "enc(N)" for an invalid id.
func (id EncID) String() string {
	if d := id.Desc(); d != nil {
		return d.Name
	}
	return fmt.Sprintf("enc(%d)", uint8(id))
}

// String returns the canonical name, or "auth(N)" for an invalid id.
func (id AuthID) String() string {
	if d := id.Desc(); d != nil {
		return d.Name
	}
	return fmt.Sprintf("auth(%d)", uint8(id))
}

// EncByName finds an encryption algorithm by canonical name or alias
// (case-insensitive).
func EncByName(name string) (*EncDesc, bool) {
	for i := EncNull; i < numEnc; i++ {
		if matchName(name, encTable[i].Name, encTable[i].Aliases) {
			return &encTable[i], true
		}
	}
	return nil, false
}

// AuthByName finds an integrity algorithm by canonical name or alias
// (case-insensitive).
func AuthByName(name string) (*AuthDesc, bool) {
	for i := AuthNull; i < numAuth; i++ {
		if matchName(name, authTable[i].Name, authTable[i].Aliases) {
			return &authTable[i], true
		}
	}
	return nil, false
}

// EncByFreeBSD finds an encryption algorithm by its FreeBSD sadb_sa_encrypt number.
func EncByFreeBSD(n int) (*EncDesc, bool) {
	for i := EncNull; i < numEnc; i++ {
		if encTable[i].FreeBSD != NoNumber && encTable[i].FreeBSD == n {
			return &encTable[i], true
		}
	}
	return nil, false
}

// EncByLinux finds an encryption algorithm by its Linux sadb_sa_encrypt number.
func EncByLinux(n int) (*EncDesc, bool) {
	for i := EncNull; i < numEnc; i++ {
		if encTable[i].Linux != NoNumber && encTable[i].Linux == n {
			return &encTable[i], true
		}
	}
	return nil, false
}

// AuthByFreeBSD finds an integrity algorithm by its FreeBSD sadb_sa_auth number.
// FreeBSD's implicit AEAD numbers (SADB_X_AALG_AES128GMAC..CHACHA20POLY1305,
// 11-14) are not integrity algorithms here: AEAD sessions take no auth.
func AuthByFreeBSD(n int) (*AuthDesc, bool) {
	for i := AuthNull; i < numAuth; i++ {
		if authTable[i].FreeBSD != NoNumber && authTable[i].FreeBSD == n {
			return &authTable[i], true
		}
	}
	return nil, false
}

// AuthByLinux finds an integrity algorithm by its Linux sadb_sa_auth number.
func AuthByLinux(n int) (*AuthDesc, bool) {
	for i := AuthNull; i < numAuth; i++ {
		if authTable[i].Linux != NoNumber && authTable[i].Linux == n {
			return &authTable[i], true
		}
	}
	return nil, false
}

func matchName(name, canon string, aliases []string) bool {
	if strings.EqualFold(name, canon) {
		return true
	}
	for _, a := range aliases {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}
