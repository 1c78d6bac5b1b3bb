package pfkey

// kind is a dialect-neutral extension identity. Kinds 1-28 equal FreeBSD's
// wire numbers (and Linux's up to 23); Linux's 24-26 are kinds 29-31.
type kind uint8

const (
	kNone kind = iota
	kSA
	kLifetimeCurrent
	kLifetimeHard
	kLifetimeSoft
	kSrc
	kDst
	kProxy
	kKeyAuth
	kKeyEncrypt
	kIdentitySrc
	kIdentityDst
	kSensitivity
	kProposal
	kSupportedAuth
	kSupportedEncrypt
	kSPIRange
	kKMPrivate
	kPolicy
	kSA2
	kNATTType
	kNATTSport
	kNATTDport
	kNATTOAI
	kNATTOAR
	kNATTFrag
	kSAReplay
	kNewSrc
	kNewDst
	kSecCtx
	kKMAddress
	kFilter
	numKinds
)

// extSpec is one row of the length tables (key.c's minsize/maxsize): sizes
// of the whole extension in bytes; max 0 means no fixed upper bound.
type extSpec struct {
	name     string
	min, max int
	freebsd  bool // exists in the FreeBSD dialect
	linux    bool // exists in the Linux dialect
}

const (
	addrMin = 8 // sadb_address; the sockaddr is checked exactly after
)

var specs = [numKinds]extSpec{
	kSA:               {"SA", 16, 16, true, true},
	kLifetimeCurrent:  {"LIFETIME_CURRENT", 32, 32, true, true},
	kLifetimeHard:     {"LIFETIME_HARD", 32, 32, true, true},
	kLifetimeSoft:     {"LIFETIME_SOFT", 32, 32, true, true},
	kSrc:              {"ADDRESS_SRC", addrMin, 0, true, true},
	kDst:              {"ADDRESS_DST", addrMin, 0, true, true},
	kProxy:            {"ADDRESS_PROXY", addrMin, 0, true, true},
	kKeyAuth:          {"KEY_AUTH", 8, 0, true, true},
	kKeyEncrypt:       {"KEY_ENCRYPT", 8, 0, true, true},
	kIdentitySrc:      {"IDENTITY_SRC", 16, 0, true, true},
	kIdentityDst:      {"IDENTITY_DST", 16, 0, true, true},
	kSensitivity:      {"SENSITIVITY", 16, 0, true, true},
	kProposal:         {"PROPOSAL", 8, 0, true, true},
	kSupportedAuth:    {"SUPPORTED_AUTH", 8, 0, true, true},
	kSupportedEncrypt: {"SUPPORTED_ENCRYPT", 8, 0, true, true},
	kSPIRange:         {"SPIRANGE", 16, 16, true, true},
	kKMPrivate:        {"X_KMPRIVATE", 8, 0, false, true}, // key.c: minsize 0, always rejected
	kPolicy:           {"X_POLICY", 16, 0, true, true},
	kSA2:              {"X_SA2", 16, 16, true, true},
	kNATTType:         {"X_NAT_T_TYPE", 8, 8, true, true},
	kNATTSport:        {"X_NAT_T_SPORT", 8, 8, true, true},
	kNATTDport:        {"X_NAT_T_DPORT", 8, 8, true, true},
	kNATTOAI:          {"X_NAT_T_OAI", addrMin, 0, true, true},
	kNATTOAR:          {"X_NAT_T_OAR", addrMin, 0, true, false},
	kNATTFrag:         {"X_NAT_T_FRAG", 8, 8, true, false},
	kSAReplay:         {"X_SA_REPLAY", 8, 8, true, false},
	kNewSrc:           {"X_NEW_ADDRESS_SRC", addrMin, 0, true, false},
	kNewDst:           {"X_NEW_ADDRESS_DST", addrMin, 0, true, false},
	kSecCtx:           {"X_SEC_CTX", 8, 0, false, true},
	kKMAddress:        {"X_KMADDRESS", 8, 0, false, true},
	kFilter:           {"X_FILTER", 40, 40, false, true},
}

// kindOf maps a wire extension type of dialect d to its kind (kNone when
// the dialect has no such extension).
func kindOf(d Dialect, t ExtType) kind {
	var k kind
	switch {
	case t == ExtReserved:
		return kNone
	case t <= ExtNATTOAI:
		k = kind(t)
	case d == FreeBSD && t <= ExtNewAddressDst:
		k = kind(t)
	case d == Linux && t <= ExtFilter:
		k = kSecCtx + kind(t-ExtSecCtx)
	default:
		return kNone
	}
	if !k.in(d) {
		return kNone
	}
	return k
}

// wireOf is the inverse of kindOf.
func wireOf(d Dialect, k kind) (ExtType, bool) {
	if k == kNone || k >= numKinds || !k.in(d) {
		return 0, false
	}
	if k >= kSecCtx {
		return ExtSecCtx + ExtType(k-kSecCtx), true
	}
	return ExtType(k), true
}

func (k kind) in(d Dialect) bool {
	switch d {
	case FreeBSD:
		return specs[k].freebsd
	case Linux:
		return specs[k].linux
	}
	return false
}

// ExtName returns the C name of extension t in dialect d without the
// SADB_ prefix (e.g. "EXT_SA" is "SA", "X_EXT_POLICY" is "X_POLICY"), or
// "" if the dialect has no such extension.
func ExtName(d Dialect, t ExtType) string {
	k := kindOf(d, t)
	if k == kNone {
		return ""
	}
	return specs[k].name
}

// present reports whether m carries an extension of kind k.
func (m *Msg) present(k kind) bool {
	switch k {
	case kSA:
		return m.SA != nil
	case kLifetimeCurrent:
		return m.LifetimeCurrent != nil
	case kLifetimeHard:
		return m.LifetimeHard != nil
	case kLifetimeSoft:
		return m.LifetimeSoft != nil
	case kSrc:
		return m.Src != nil
	case kDst:
		return m.Dst != nil
	case kProxy:
		return m.Proxy != nil
	case kKeyAuth:
		return m.AuthKey != nil
	case kKeyEncrypt:
		return m.EncKey != nil
	case kIdentitySrc:
		return m.SrcIdentity != nil
	case kIdentityDst:
		return m.DstIdentity != nil
	case kSensitivity:
		return m.Sensitivity != nil
	case kProposal:
		return m.Proposal != nil
	case kSupportedAuth:
		return m.SupportedAuth != nil
	case kSupportedEncrypt:
		return m.SupportedEncrypt != nil
	case kSPIRange:
		return m.SPIRange != nil
	case kKMPrivate:
		return m.KMPrivate != nil
	case kPolicy:
		return m.Policy != nil
	case kSA2:
		return m.SA2 != nil
	case kNATTType:
		return m.NATTType != nil
	case kNATTSport:
		return m.NATTSport != nil
	case kNATTDport:
		return m.NATTDport != nil
	case kNATTOAI:
		return m.NATTOAI != nil
	case kNATTOAR:
		return m.NATTOAR != nil
	case kNATTFrag:
		return m.NATTFrag != nil
	case kSAReplay:
		return m.SAReplay != nil
	case kNewSrc:
		return m.NewSrc != nil
	case kNewDst:
		return m.NewDst != nil
	case kSecCtx:
		return m.SecCtx != nil
	case kKMAddress:
		return m.KMAddress != nil
	case kFilter:
		return m.Filter != nil
	}
	return false
}

// addrField returns the *Address slot of an address kind, or nil.
func (m *Msg) addrField(k kind) **Address {
	switch k {
	case kSrc:
		return &m.Src
	case kDst:
		return &m.Dst
	case kProxy:
		return &m.Proxy
	case kNATTOAI:
		return &m.NATTOAI
	case kNATTOAR:
		return &m.NATTOAR
	case kNewSrc:
		return &m.NewSrc
	case kNewDst:
		return &m.NewDst
	}
	return nil
}
