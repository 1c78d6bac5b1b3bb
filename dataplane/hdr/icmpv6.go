package hdr

// ICMPv6 types and codes the router uses (RFC 4443, RFC 4861).
const (
	ICMPv6Unreachable     = 1
	ICMPv6PacketTooBig    = 2
	ICMPv6TimeExceeded    = 3
	ICMPv6ParamProblem    = 4
	ICMPv6EchoRequest     = 128
	ICMPv6EchoReply       = 129
	ICMPv6RouterSolicit   = 133
	ICMPv6RouterAdvert    = 134
	ICMPv6NeighborSolicit = 135
	ICMPv6NeighborAdvert  = 136
	ICMPv6Redirect        = 137

	ICMPv6CodeNoRoute     = 0
	ICMPv6CodeAdminProhib = 1
	ICMPv6CodeAddrUnreach = 3
	ICMPv6CodePortUnreach = 4
)

// Neighbour discovery option types (RFC 4861 §4.6).
const (
	NDOptSourceLLA = 1
	NDOptTargetLLA = 2
	NDOptMTU       = 5
)

// Neighbor advertisement flags (in the first byte of the rest word).
const (
	NAFlagRouter    = 0x80
	NAFlagSolicited = 0x40
	NAFlagOverride  = 0x20
)

// NDLen is the length of a neighbour solicitation or advertisement
// without options: ICMPv6 header (8) + target address (16).
const NDLen = 24

// ND is a neighbour solicitation or advertisement (RFC 4861 §4.3, §4.4).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	|R|S|O|                     Reserved                            |
//	|                 Target Address (16 bytes)                     |
//	|   Options ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+
type ND []byte

// IsValid reports whether n bytes hold an NS/NA with well-formed options.
func (d ND) IsValid(n int) bool {
	if n < NDLen || len(d) < n {
		return false
	}
	opts := d[NDLen:n]
	for len(opts) > 0 {
		if len(opts) < 8 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			return false
		}
		opts = opts[int(opts[1])*8:]
	}
	return true
}

// Target returns the target address.
func (d ND) Target() (a [16]byte) { copy(a[:], d[8:24]); return }

// Flags returns the R/S/O flags byte of an advertisement.
func (d ND) Flags() uint8 { return d[4] }

// LinkAddr returns the MAC in the first option of type typ, if any.
func (d ND) LinkAddr(typ uint8) (m [6]byte, ok bool) {
	opts := d[NDLen:]
	for len(opts) >= 8 && opts[1] != 0 && int(opts[1])*8 <= len(opts) {
		if opts[0] == typ && opts[1] == 1 {
			copy(m[:], opts[2:8])
			return m, true
		}
		opts = opts[int(opts[1])*8:]
	}
	return m, false
}

// SolicitedNode returns the solicited-node multicast address of a.
func SolicitedNode(a *[16]byte) (m [16]byte) {
	m = [16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff}
	m[13], m[14], m[15] = a[13], a[14], a[15]
	return m
}

// MulticastMAC6 returns the Ethernet address for IPv6 multicast a (RFC 2464 §7).
func MulticastMAC6(a *[16]byte) [6]byte {
	return [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}
}
