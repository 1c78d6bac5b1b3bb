package pfkey

import (
	"net/netip"
	"syscall"
)

// Dialect selects the wire layout: FreeBSD's net/pfkeyv2.h (KAME) or
// Linux's linux/pfkeyv2.h. The zero value is invalid.
type Dialect uint8

// Dialects.
const (
	// FreeBSD: sockaddrs start with sa_len and an 8-bit family (AF_INET 2,
	// AF_INET6 28); 8-byte ipsecrequests with a 16-bit reqid; sadb_sa_replay
	// counts bytes of bitmap; extensions 23-28 are NAT_T_OAI, NAT_T_OAR,
	// NAT_T_FRAG, SA_REPLAY, NEW_ADDRESS_SRC, NEW_ADDRESS_DST.
	FreeBSD Dialect = 1
	// Linux: sockaddrs start with a 16-bit host-order family (AF_INET 2,
	// AF_INET6 10), no sa_len; 16-byte ipsecrequests with a 32-bit reqid;
	// sadb_sa_replay counts packets; extensions 23-26 are NAT_T_OA,
	// SEC_CTX, KMADDRESS, FILTER; message types 23 and 24 exist.
	Linux Dialect = 2
)

// DefaultDialect is what a connection speaks until DetectDialect is sure:
// the programs that reach this daemon run on Linux and include
// linux/pfkeyv2.h.
const DefaultDialect = Linux

// String names the dialect ("freebsd", "linux").
func (d Dialect) String() string {
	switch d {
	case FreeBSD:
		return "freebsd"
	case Linux:
		return "linux"
	}
	return "dialect(" + itoa(int(d)) + ")"
}

// Version is PF_KEY_V2, the only sadb_msg_version accepted.
const Version = 2

// Sizes of the fixed wire structures, in bytes.
const (
	HeaderLen = 16 // struct sadb_msg
	ExtHdrLen = 4  // struct sadb_ext (len, type)
	// MaxMsgLen is the largest message sadb_msg_len can describe (65535 words).
	MaxMsgLen = 0xffff * 8
	// FreeBSDMaxRequestLen is key_parse's limit on a message sent to the
	// kernel (MCLBYTES); longer requests fail with ENOBUFS in CheckRequest.
	FreeBSDMaxRequestLen = 2048
)

// MsgType is sadb_msg_type.
type MsgType uint8

// Message types (RFC 2367 §2.3.1, KAME SADB_X_*, Linux SADB_X_NAT_T_NEW_MAPPING
// and SADB_X_MIGRATE).
const (
	MsgReserved       MsgType = 0  // SADB_RESERVED: never valid
	MsgGetSPI         MsgType = 1  // SADB_GETSPI
	MsgUpdate         MsgType = 2  // SADB_UPDATE
	MsgAdd            MsgType = 3  // SADB_ADD
	MsgDelete         MsgType = 4  // SADB_DELETE
	MsgGet            MsgType = 5  // SADB_GET
	MsgAcquire        MsgType = 6  // SADB_ACQUIRE
	MsgRegister       MsgType = 7  // SADB_REGISTER
	MsgExpire         MsgType = 8  // SADB_EXPIRE
	MsgFlush          MsgType = 9  // SADB_FLUSH
	MsgDump           MsgType = 10 // SADB_DUMP
	MsgPromisc        MsgType = 11 // SADB_X_PROMISC
	MsgPChange        MsgType = 12 // SADB_X_PCHANGE
	MsgSPDUpdate      MsgType = 13 // SADB_X_SPDUPDATE
	MsgSPDAdd         MsgType = 14 // SADB_X_SPDADD
	MsgSPDDelete      MsgType = 15 // SADB_X_SPDDELETE (by selector)
	MsgSPDGet         MsgType = 16 // SADB_X_SPDGET
	MsgSPDAcquire     MsgType = 17 // SADB_X_SPDACQUIRE
	MsgSPDDump        MsgType = 18 // SADB_X_SPDDUMP
	MsgSPDFlush       MsgType = 19 // SADB_X_SPDFLUSH
	MsgSPDSetIdx      MsgType = 20 // SADB_X_SPDSETIDX
	MsgSPDExpire      MsgType = 21 // SADB_X_SPDEXPIRE
	MsgSPDDelete2     MsgType = 22 // SADB_X_SPDDELETE2 (by policy id)
	MsgNATTNewMapping MsgType = 23 // SADB_X_NAT_T_NEW_MAPPING (Linux only)
	MsgMigrate        MsgType = 24 // SADB_X_MIGRATE (Linux only)
)

// MaxMsgType returns SADB_MAX of the dialect (22 FreeBSD, 24 Linux).
func MaxMsgType(d Dialect) MsgType {
	if d == Linux {
		return MsgMigrate
	}
	return MsgSPDDelete2
}

// SAType is sadb_msg_satype.
type SAType uint8

// SA types.
const (
	SATypeUnspec       SAType = 0  // SADB_SATYPE_UNSPEC
	SATypeAH           SAType = 2  // SADB_SATYPE_AH
	SATypeESP          SAType = 3  // SADB_SATYPE_ESP
	SATypeRSVP         SAType = 5  // SADB_SATYPE_RSVP (unsupported: EOPNOTSUPP)
	SATypeOSPFv2       SAType = 6  // SADB_SATYPE_OSPFV2 (unsupported)
	SATypeRIPv2        SAType = 7  // SADB_SATYPE_RIPV2 (unsupported)
	SATypeMIP          SAType = 8  // SADB_SATYPE_MIP (unsupported)
	SATypeIPComp       SAType = 9  // SADB_X_SATYPE_IPCOMP
	SATypeTCPSignature SAType = 11 // SADB_X_SATYPE_TCPSIGNATURE (FreeBSD only)
)

// ExtType is sadb_ext_type, the wire number of an extension. Numbers 1-23
// mean the same in both dialects; 24 and up differ (see the constants).
type ExtType uint16

// Extension types.
const (
	ExtReserved         ExtType = 0  // SADB_EXT_RESERVED: never valid
	ExtSA               ExtType = 1  // SADB_EXT_SA
	ExtLifetimeCurrent  ExtType = 2  // SADB_EXT_LIFETIME_CURRENT
	ExtLifetimeHard     ExtType = 3  // SADB_EXT_LIFETIME_HARD
	ExtLifetimeSoft     ExtType = 4  // SADB_EXT_LIFETIME_SOFT
	ExtAddressSrc       ExtType = 5  // SADB_EXT_ADDRESS_SRC
	ExtAddressDst       ExtType = 6  // SADB_EXT_ADDRESS_DST
	ExtAddressProxy     ExtType = 7  // SADB_EXT_ADDRESS_PROXY
	ExtKeyAuth          ExtType = 8  // SADB_EXT_KEY_AUTH
	ExtKeyEncrypt       ExtType = 9  // SADB_EXT_KEY_ENCRYPT
	ExtIdentitySrc      ExtType = 10 // SADB_EXT_IDENTITY_SRC
	ExtIdentityDst      ExtType = 11 // SADB_EXT_IDENTITY_DST
	ExtSensitivity      ExtType = 12 // SADB_EXT_SENSITIVITY
	ExtProposal         ExtType = 13 // SADB_EXT_PROPOSAL
	ExtSupportedAuth    ExtType = 14 // SADB_EXT_SUPPORTED_AUTH
	ExtSupportedEncrypt ExtType = 15 // SADB_EXT_SUPPORTED_ENCRYPT
	ExtSPIRange         ExtType = 16 // SADB_EXT_SPIRANGE
	ExtKMPrivate        ExtType = 17 // SADB_X_EXT_KMPRIVATE (FreeBSD rejects it as key.c does)
	ExtPolicy           ExtType = 18 // SADB_X_EXT_POLICY
	ExtSA2              ExtType = 19 // SADB_X_EXT_SA2
	ExtNATTType         ExtType = 20 // SADB_X_EXT_NAT_T_TYPE
	ExtNATTSport        ExtType = 21 // SADB_X_EXT_NAT_T_SPORT
	ExtNATTDport        ExtType = 22 // SADB_X_EXT_NAT_T_DPORT
	ExtNATTOAI          ExtType = 23 // SADB_X_EXT_NAT_T_OAI (FreeBSD) = SADB_X_EXT_NAT_T_OA (Linux)
	ExtNATTOA           ExtType = 23 // SADB_X_EXT_NAT_T_OA: same number as ExtNATTOAI

	// FreeBSD only.
	ExtNATTOAR       ExtType = 24 // SADB_X_EXT_NAT_T_OAR
	ExtNATTFrag      ExtType = 25 // SADB_X_EXT_NAT_T_FRAG
	ExtSAReplay      ExtType = 26 // SADB_X_EXT_SA_REPLAY
	ExtNewAddressSrc ExtType = 27 // SADB_X_EXT_NEW_ADDRESS_SRC
	ExtNewAddressDst ExtType = 28 // SADB_X_EXT_NEW_ADDRESS_DST

	// Linux only.
	ExtSecCtx    ExtType = 24 // SADB_X_EXT_SEC_CTX
	ExtKMAddress ExtType = 25 // SADB_X_EXT_KMADDRESS
	ExtFilter    ExtType = 26 // SADB_X_EXT_FILTER
)

// MaxExtType returns SADB_EXT_MAX of the dialect (28 FreeBSD, 26 Linux).
func MaxExtType(d Dialect) ExtType {
	if d == Linux {
		return ExtFilter
	}
	return ExtNewAddressDst
}

// SAState is sadb_sa_state.
type SAState uint8

// SA states.
const (
	SAStateLarval SAState = 0 // SADB_SASTATE_LARVAL
	SAStateMature SAState = 1 // SADB_SASTATE_MATURE
	SAStateDying  SAState = 2 // SADB_SASTATE_DYING
	SAStateDead   SAState = 3 // SADB_SASTATE_DEAD
)

// sadb_sa_flags bits.
const (
	SAFlagPFS = 0x1 // SADB_SAFLAGS_PFS (both)

	// FreeBSD (KAME SADB_X_EXT_* flags kept in sadb_sa_flags).
	SAFlagOld    = 0x1   // SADB_X_EXT_OLD: RFC 1827/1829 formats
	SAFlagIV4B   = 0x10  // SADB_X_EXT_IV4B: 4-byte IV
	SAFlagDeriv  = 0x20  // SADB_X_EXT_DERIV: derived IV
	SAFlagCycSeq = 0x40  // SADB_X_EXT_CYCSEQ: allow sequence number cycling
	SAFlagRawCPI = 0x80  // SADB_X_EXT_RAWCPI: IPComp CPI used raw
	SAFlagPRand  = 0x100 // SADB_X_EXT_PRAND: random padding
	SAFlagPZero  = 0x200 // SADB_X_EXT_PZERO: zero padding
	SAFlagPMask  = 0x300 // SADB_X_EXT_PMASK: padding mask
	SAFlagESN    = 0x400 // SADB_X_SAFLAGS_ESN: extended sequence numbers

	// Linux.
	SAFlagNoPMTUDisc = 0x20000000 // SADB_SAFLAGS_NOPMTUDISC
	SAFlagDecapDSCP  = 0x40000000 // SADB_SAFLAGS_DECAP_DSCP
	SAFlagNoECN      = 0x80000000 // SADB_SAFLAGS_NOECN
)

// Algorithm numbers on the wire (sadb_sa_auth, sadb_sa_encrypt, sadb_alg_id,
// sadb_comb_*). Those below are equal in both dialects unless marked.
const (
	AAlgNone       = 0  // SADB_AALG_NONE
	AAlgMD5HMAC    = 2  // SADB_AALG_MD5HMAC
	AAlgSHA1HMAC   = 3  // SADB_AALG_SHA1HMAC
	AAlgSHA2256    = 5  // SADB_X_AALG_SHA2_256 (Linux SADB_X_AALG_SHA2_256HMAC)
	AAlgSHA2384    = 6  // SADB_X_AALG_SHA2_384
	AAlgSHA2512    = 7  // SADB_X_AALG_SHA2_512
	AAlgRIPEMD160  = 8  // SADB_X_AALG_RIPEMD160HMAC
	AAlgAESXCBCMAC = 9  // SADB_X_AALG_AES_XCBC_MAC
	AAlgSM3256     = 10 // SADB_X_AALG_SM3_256HMAC (Linux only)
	// FreeBSD only: the integrity half FreeBSD records for AEAD SAs (and
	// reports in sadb_sa_auth of dumps); never a separate algorithm.
	AAlgAES128GMAC       = 11  // SADB_X_AALG_AES128GMAC
	AAlgAES192GMAC       = 12  // SADB_X_AALG_AES192GMAC
	AAlgAES256GMAC       = 13  // SADB_X_AALG_AES256GMAC
	AAlgChaCha20Poly1305 = 14  // SADB_X_AALG_CHACHA20POLY1305
	AAlgNull             = 251 // SADB_X_AALG_NULL
	AAlgTCPMD5           = 252 // SADB_X_AALG_TCP_MD5 (FreeBSD)

	EAlgNone             = 0  // SADB_EALG_NONE
	EAlgDESCBC           = 2  // SADB_EALG_DESCBC
	EAlg3DESCBC          = 3  // SADB_EALG_3DESCBC
	EAlgCAST128CBC       = 6  // SADB_X_EALG_CAST128CBC
	EAlgBlowfishCBC      = 7  // SADB_X_EALG_BLOWFISHCBC
	EAlgNull             = 11 // SADB_EALG_NULL
	EAlgAESCBC           = 12 // SADB_X_EALG_AESCBC / SADB_X_EALG_RIJNDAELCBC
	EAlgAESCTR           = 13 // SADB_X_EALG_AESCTR
	EAlgChaCha20Poly1305 = 15 // SADB_X_EALG_CHACHA20POLY1305 (FreeBSD; Linux 15 is AES_CCM_ICV12)
	EAlgAESGCM8          = 18 // SADB_X_EALG_AESGCM8 / SADB_X_EALG_AES_GCM_ICV8
	EAlgAESGCM12         = 19 // SADB_X_EALG_AESGCM12 / SADB_X_EALG_AES_GCM_ICV12
	EAlgAESGCM16         = 20 // SADB_X_EALG_AESGCM16 / SADB_X_EALG_AES_GCM_ICV16
	EAlgCamelliaCBC      = 22 // SADB_X_EALG_CAMELLIACBC
	EAlgAESGMAC          = 23 // SADB_X_EALG_AESGMAC / SADB_X_EALG_NULL_AES_GMAC
	EAlgSM4CBC           = 24 // SADB_X_EALG_SM4CBC (Linux only)
	EAlgAESCCM8          = 14 // SADB_X_EALG_AES_CCM_ICV8 (Linux only)
	EAlgAESCCM12         = 15 // SADB_X_EALG_AES_CCM_ICV12 (Linux; FreeBSD's 15 is ChaCha20-Poly1305)
	EAlgAESCCM16         = 16 // SADB_X_EALG_AES_CCM_ICV16 (Linux only)

	CAlgNone    = 0 // SADB_X_CALG_NONE
	CAlgOUI     = 1 // SADB_X_CALG_OUI
	CAlgDeflate = 2 // SADB_X_CALG_DEFLATE
	CAlgLZS     = 3 // SADB_X_CALG_LZS
	CAlgLZJH    = 4 // SADB_X_CALG_LZJH (Linux)
)

// Identity types (sadb_ident_type).
const (
	IdentReserved = 0 // SADB_IDENTTYPE_RESERVED
	IdentPrefix   = 1 // SADB_IDENTTYPE_PREFIX
	IdentFQDN     = 2 // SADB_IDENTTYPE_FQDN
	IdentUserFQDN = 3 // SADB_IDENTTYPE_USERFQDN
	IdentAddr     = 4 // SADB_X_IDENTTYPE_ADDR: the data is a sockaddr
)

// Policy and request values (netipsec/ipsec.h, linux/ipsec.h).
const (
	PolicyDiscard = 0 // IPSEC_POLICY_DISCARD
	PolicyNone    = 1 // IPSEC_POLICY_NONE
	PolicyIPsec   = 2 // IPSEC_POLICY_IPSEC
	PolicyEntrust = 3 // IPSEC_POLICY_ENTRUST
	PolicyBypass  = 4 // IPSEC_POLICY_BYPASS

	DirAny      = 0 // IPSEC_DIR_ANY
	DirInbound  = 1 // IPSEC_DIR_INBOUND
	DirOutbound = 2 // IPSEC_DIR_OUTBOUND
	DirFwd      = 3 // IPSEC_DIR_FWD (Linux only; FreeBSD's IPSEC_DIR_MAX)
	DirInvalid  = 4 // IPSEC_DIR_INVALID

	ScopeAny    = 0 // IPSEC_POLICYSCOPE_ANY (FreeBSD sadb_x_policy_scope)
	ScopeGlobal = 1 // IPSEC_POLICYSCOPE_GLOBAL
	ScopeIfnet  = 2 // IPSEC_POLICYSCOPE_IFNET: Priority holds the ifindex

	ModeAny       = 0 // IPSEC_MODE_ANY
	ModeTransport = 1 // IPSEC_MODE_TRANSPORT
	ModeTunnel    = 2 // IPSEC_MODE_TUNNEL
	ModeBEET      = 3 // IPSEC_MODE_BEET (Linux)

	LevelDefault = 0 // IPSEC_LEVEL_DEFAULT
	LevelUse     = 1 // IPSEC_LEVEL_USE
	LevelRequire = 2 // IPSEC_LEVEL_REQUIRE
	LevelUnique  = 3 // IPSEC_LEVEL_UNIQUE

	ProtoAny    = 255 // IPSEC_ULPROTO_ANY in sadb_address_proto and Proto fields
	ProtoESP    = 50  // IPPROTO_ESP
	ProtoAH     = 51  // IPPROTO_AH
	ProtoIPComp = 108 // IPPROTO_IPCOMP

	// FreeBSDMaxReqID is the largest reqid a FreeBSD ipsecrequest carries
	// (16 bits; IPSEC_MANUAL_REQID_MAX is 0x3fff).
	FreeBSDMaxReqID = 0xffff

	NATTEspInUDPNonIKE = 1 // UDP_ENCAP_ESPINUDP_NON_IKE in sadb_x_nat_t_type_type
	NATTEspInUDP       = 2 // UDP_ENCAP_ESPINUDP (RFC 3948)
)

// Address families in the sockaddrs of each dialect.
const (
	FreeBSDAFInet  = 2  // AF_INET in FreeBSD's sa_family (8 bits)
	FreeBSDAFInet6 = 28 // AF_INET6 in FreeBSD's sa_family
	LinuxAFInet    = 2  // AF_INET in Linux's sa_family (16 bits, host order)
	LinuxAFInet6   = 10 // AF_INET6 in Linux's sa_family
)

// Header is struct sadb_msg, the 16-byte base header of every message.
type Header struct {
	Version uint8   // sadb_msg_version: Version (2)
	Type    MsgType // sadb_msg_type
	// Errno is sadb_msg_errno: 0 in requests; in replies the host's errno
	// number (Encode rejects values above 255).
	Errno    syscall.Errno
	SAType   SAType // sadb_msg_satype
	Len      uint16 // sadb_msg_len in 64-bit words: as decoded; Encode recomputes it
	Reserved uint16 // sadb_msg_reserved: must be 0 in Linux requests
	Seq      uint32 // sadb_msg_seq
	PID      uint32 // sadb_msg_pid
}

// Msg is a decoded PF_KEY message: the header and one typed field per
// extension, nil when the extension is absent.
type Msg struct {
	Header

	SA               *SA          // SADB_EXT_SA
	LifetimeCurrent  *Lifetime    // SADB_EXT_LIFETIME_CURRENT
	LifetimeHard     *Lifetime    // SADB_EXT_LIFETIME_HARD
	LifetimeSoft     *Lifetime    // SADB_EXT_LIFETIME_SOFT
	Src              *Address     // SADB_EXT_ADDRESS_SRC
	Dst              *Address     // SADB_EXT_ADDRESS_DST
	Proxy            *Address     // SADB_EXT_ADDRESS_PROXY
	AuthKey          *Key         // SADB_EXT_KEY_AUTH
	EncKey           *Key         // SADB_EXT_KEY_ENCRYPT
	SrcIdentity      *Identity    // SADB_EXT_IDENTITY_SRC
	DstIdentity      *Identity    // SADB_EXT_IDENTITY_DST
	Sensitivity      *Sensitivity // SADB_EXT_SENSITIVITY
	Proposal         *Proposal    // SADB_EXT_PROPOSAL
	SupportedAuth    *Supported   // SADB_EXT_SUPPORTED_AUTH
	SupportedEncrypt *Supported   // SADB_EXT_SUPPORTED_ENCRYPT
	SPIRange         *SPIRange    // SADB_EXT_SPIRANGE
	KMPrivate        *KMPrivate   // SADB_X_EXT_KMPRIVATE (Linux only)
	Policy           *Policy      // SADB_X_EXT_POLICY
	SA2              *SA2         // SADB_X_EXT_SA2
	NATTType         *NATTType    // SADB_X_EXT_NAT_T_TYPE
	NATTSport        *NATTPort    // SADB_X_EXT_NAT_T_SPORT
	NATTDport        *NATTPort    // SADB_X_EXT_NAT_T_DPORT
	// NATTOAI is SADB_X_EXT_NAT_T_OAI (FreeBSD), or Linux's single
	// SADB_X_EXT_NAT_T_OA: the original address of the initiator.
	NATTOAI   *Address
	NATTOAR   *Address   // SADB_X_EXT_NAT_T_OAR (FreeBSD only)
	NATTFrag  *NATTFrag  // SADB_X_EXT_NAT_T_FRAG (FreeBSD only)
	SAReplay  *SAReplay  // SADB_X_EXT_SA_REPLAY (FreeBSD only)
	NewSrc    *Address   // SADB_X_EXT_NEW_ADDRESS_SRC (FreeBSD only)
	NewDst    *Address   // SADB_X_EXT_NEW_ADDRESS_DST (FreeBSD only)
	SecCtx    *SecCtx    // SADB_X_EXT_SEC_CTX (Linux only)
	KMAddress *KMAddress // SADB_X_EXT_KMADDRESS (Linux only)
	Filter    *Filter    // SADB_X_EXT_FILTER (Linux only)

	// Unknown holds well-formed extensions with a type above Linux's
	// SADB_EXT_MAX, kept in order as Linux's af_key skips them (FreeBSD's
	// key.c rejects them, so Decode(FreeBSD) never fills this).
	Unknown []RawExt

	// Order is the wire order of the extensions Decode saw. Encode emits
	// the present extensions listed here first, in this order, then every
	// other present extension in ascending type order, then Unknown.
	// Entries for absent extensions are skipped, so a reply built by
	// editing a decoded request (say, dropping its keys) keeps the
	// request's order. Nil is fine.
	Order []ExtType
}

// SA is struct sadb_sa (16 bytes).
type SA struct {
	// SPI is the SPI as a number (sadb_sa_spi is in network byte order on
	// the wire; Decode and Encode convert). For IPComp the CPI is in the low
	// 16 bits.
	SPI uint32
	// Replay is sadb_sa_replay: the anti-replay window in BYTES of bitmap on
	// FreeBSD and in PACKETS on Linux. Use Msg.ReplayWindow to read it.
	Replay  uint8
	State   SAState // sadb_sa_state: SAState*
	Auth    uint8   // sadb_sa_auth: SADB_AALG_* (see AuthAlgFromWire)
	Encrypt uint8   // sadb_sa_encrypt: SADB_EALG_* or, for IPComp, SADB_X_CALG_*
	Flags   uint32  // sadb_sa_flags: SAFlag* bits of the dialect
}

// Lifetime is struct sadb_lifetime (32 bytes).
type Lifetime struct {
	Allocations uint32 // sadb_lifetime_allocations
	Bytes       uint64 // sadb_lifetime_bytes
	AddTime     uint64 // sadb_lifetime_addtime: seconds (CURRENT: a Unix time)
	UseTime     uint64 // sadb_lifetime_usetime: seconds (CURRENT: a Unix time)
}

// Address is struct sadb_address followed by a sockaddr_in or sockaddr_in6
// (24 bytes for IPv4, 40 for IPv6 in both dialects).
type Address struct {
	Proto     uint8          // sadb_address_proto: upper-layer protocol, ProtoAny (255) for any
	PrefixLen uint8          // sadb_address_prefixlen (<= 32 or 128)
	Reserved  uint16         // sadb_address_reserved
	Addr      netip.AddrPort // the sockaddr's address (no zone) and port (0: any)
	FlowInfo  uint32         // sin6_flowinfo (IPv6 only)
	ScopeID   uint32         // sin6_scope_id (IPv6 only)
}

// Key is struct sadb_key followed by the key bits.
type Key struct {
	Bits     uint16 // sadb_key_bits
	Reserved uint16 // sadb_key_reserved
	// Data holds (Bits+7)/8 bytes of key; Decode copies it out of the
	// message and Encode pads it. Call Wipe when done.
	Data []byte
}

// Identity is struct sadb_ident followed by its data.
type Identity struct {
	Type     uint16 // sadb_ident_type: Ident*
	Reserved uint16 // sadb_ident_reserved
	ID       uint64 // sadb_ident_id
	// Data is everything after the 16-byte header: a NUL-padded string,
	// or a sockaddr for IdentAddr. Its length is a multiple of 8.
	Data []byte
}

// Sensitivity is struct sadb_sens followed by its two bitmaps.
type Sensitivity struct {
	DPD         uint32 // sadb_sens_dpd
	SensLevel   uint8  // sadb_sens_sens_level
	IntegLevel  uint8  // sadb_sens_integ_level
	Reserved    uint32 // sadb_sens_reserved
	SensBitmap  []byte // sadb_sens_sens_len*8 bytes
	IntegBitmap []byte // sadb_sens_integ_len*8 bytes
}

// Proposal is struct sadb_prop followed by its combinations.
type Proposal struct {
	Replay   uint8   // sadb_prop_replay
	Reserved [3]byte // sadb_prop_reserved
	Combs    []Comb
}

// Comb is struct sadb_comb (72 bytes): one acceptable algorithm combination.
type Comb struct {
	Auth            uint8  // sadb_comb_auth
	Encrypt         uint8  // sadb_comb_encrypt
	Flags           uint16 // sadb_comb_flags
	AuthMinBits     uint16 // sadb_comb_auth_minbits
	AuthMaxBits     uint16 // sadb_comb_auth_maxbits
	EncryptMinBits  uint16 // sadb_comb_encrypt_minbits
	EncryptMaxBits  uint16 // sadb_comb_encrypt_maxbits
	Reserved        uint32 // sadb_comb_reserved
	SoftAllocations uint32 // sadb_comb_soft_allocations
	HardAllocations uint32 // sadb_comb_hard_allocations
	SoftBytes       uint64 // sadb_comb_soft_bytes
	HardBytes       uint64 // sadb_comb_hard_bytes
	SoftAddTime     uint64 // sadb_comb_soft_addtime
	HardAddTime     uint64 // sadb_comb_hard_addtime
	SoftUseTime     uint64 // sadb_comb_soft_usetime
	HardUseTime     uint64 // sadb_comb_hard_usetime
}

// Supported is struct sadb_supported followed by its algorithms.
type Supported struct {
	Reserved uint32 // sadb_supported_reserved
	Algs     []Alg
}

// Alg is struct sadb_alg (8 bytes).
type Alg struct {
	ID       uint8  // sadb_alg_id: SADB_AALG_* or SADB_EALG_*
	IVLen    uint8  // sadb_alg_ivlen in bytes
	MinBits  uint16 // sadb_alg_minbits
	MaxBits  uint16 // sadb_alg_maxbits
	Reserved uint16 // sadb_alg_reserved
}

// SPIRange is struct sadb_spirange (16 bytes). Min and Max are host-order
// numbers on the wire (unlike sadb_sa_spi).
type SPIRange struct {
	Min      uint32 // sadb_spirange_min
	Max      uint32 // sadb_spirange_max
	Reserved uint32 // sadb_spirange_reserved
}

// KMPrivate is struct sadb_x_kmprivate and its opaque data (Linux only).
type KMPrivate struct {
	Reserved uint32 // sadb_x_kmprivate_reserved
	Data     []byte // everything after the 8-byte header (a multiple of 8 bytes)
}

// Policy is struct sadb_x_policy (16 bytes) followed by its ipsecrequests.
type Policy struct {
	Type uint16 // sadb_x_policy_type: Policy*
	Dir  uint8  // sadb_x_policy_dir: Dir*
	// Scope is FreeBSD's sadb_x_policy_scope (Scope*); Linux's
	// sadb_x_policy_reserved.
	Scope uint8
	ID    uint32 // sadb_x_policy_id
	// Priority is sadb_x_policy_priority (FreeBSD: the ifindex when Scope
	// is ScopeIfnet).
	Priority uint32
	Requests []IPsecRequest // only for Type PolicyIPsec
}

// IPsecRequest is struct sadb_x_ipsecrequest: 8 bytes on FreeBSD (16-bit
// reqid), 16 on Linux (32-bit reqid), followed by a pair of sockaddrs when
// Src and Dst are valid.
type IPsecRequest struct {
	Proto uint16 // sadb_x_ipsecrequest_proto: ProtoESP, ProtoAH, ProtoIPComp
	Mode  uint8  // sadb_x_ipsecrequest_mode: Mode*
	Level uint8  // sadb_x_ipsecrequest_level: Level*
	ReqID uint32 // sadb_x_ipsecrequest_reqid (FreeBSD: at most FreeBSDMaxReqID)
	// Src and Dst are the tunnel endpoints (both valid, same family) or
	// both the zero AddrPort when the request carries no addresses.
	Src, Dst netip.AddrPort
}

// SA2 is struct sadb_x_sa2 (16 bytes).
type SA2 struct {
	Mode      uint8  // sadb_x_sa2_mode: Mode*
	Reserved1 uint8  // sadb_x_sa2_reserved1
	Reserved2 uint16 // sadb_x_sa2_reserved2
	Sequence  uint32 // sadb_x_sa2_sequence
	ReqID     uint32 // sadb_x_sa2_reqid
}

// NATTType is struct sadb_x_nat_t_type (8 bytes).
type NATTType struct {
	Type     uint8   // sadb_x_nat_t_type_type: NATTEspInUDP*
	Reserved [3]byte // sadb_x_nat_t_type_reserved
}

// NATTPort is struct sadb_x_nat_t_port (8 bytes).
type NATTPort struct {
	Port     uint16 // sadb_x_nat_t_port_port as a number (network order on the wire)
	Reserved uint16 // sadb_x_nat_t_port_reserved
}

// NATTFrag is struct sadb_x_nat_t_frag (8 bytes, FreeBSD only).
type NATTFrag struct {
	FragLen  uint16 // sadb_x_nat_t_frag_fraglen
	Reserved uint16 // sadb_x_nat_t_frag_reserved
}

// SAReplay is struct sadb_x_sa_replay (8 bytes, FreeBSD only): the
// anti-replay window in packets, for windows too large for sadb_sa_replay.
type SAReplay struct {
	Replay uint32 // sadb_x_sa_replay_replay, packets
}

// SecCtx is struct sadb_x_sec_ctx and its context string (Linux only).
type SecCtx struct {
	Alg     uint8  // sadb_x_ctx_alg
	DOI     uint8  // sadb_x_ctx_doi
	Context []byte // sadb_x_ctx_len bytes of security context
}

// KMAddress is struct sadb_x_kmaddress followed by two sockaddrs of one
// family (Linux only, for SADB_X_MIGRATE).
type KMAddress struct {
	Reserved uint32         // sadb_x_kmaddress_reserved
	Local    netip.AddrPort // the keying daemon's local address
	Remote   netip.AddrPort // its peer
}

// Filter is struct sadb_x_filter (40 bytes, Linux only): restricts a
// SADB_DUMP to SAs between two prefixes.
type Filter struct {
	Src          netip.Addr // sadb_x_filter_saddr (family from sadb_x_filter_family)
	Dst          netip.Addr // sadb_x_filter_daddr
	SrcPrefixLen uint8      // sadb_x_filter_splen
	DstPrefixLen uint8      // sadb_x_filter_dplen
}

// RawExt is an extension kept as bytes (see Msg.Unknown).
type RawExt struct {
	Type ExtType
	Data []byte // the bytes after the 4-byte sadb_ext header (ext_len*8-4 bytes)
}
