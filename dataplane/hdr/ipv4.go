package hdr

import "encoding/binary"

// IPv4MinLen is the length of an IPv4 header without options.
const IPv4MinLen = 20

// IPv4 flag bits in the flags/fragment-offset word.
const (
	IPv4FlagDF      = 0x4000
	IPv4FlagMF      = 0x2000
	IPv4FragOffMask = 0x1fff
)

// IPv4 is an IPv4 header with its options (RFC 791).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv4 []byte

// IsValid reports whether n bytes hold a well-formed IPv4 header: version
// 4, IHL >= 5, header within n, total length between IHL and n.
func (ip IPv4) IsValid(n int) bool {
	if n > len(ip) || n < IPv4MinLen || ip[0]>>4 != 4 {
		return false
	}
	hl := int(ip[0]&0x0f) * 4
	tl := int(binary.BigEndian.Uint16(ip[2:]))
	return hl >= IPv4MinLen && hl <= n && tl >= hl && tl <= n
}

// Version returns the version field.
func (ip IPv4) Version() uint8 { return ip[0] >> 4 }

// HeaderLen returns the header length in bytes, options included.
func (ip IPv4) HeaderLen() int { return int(ip[0]&0x0f) * 4 }

// TOS returns the type-of-service (DSCP and ECN) byte.
func (ip IPv4) TOS() uint8 { return ip[1] }

// TotalLen returns the total length field.
func (ip IPv4) TotalLen() int { return int(binary.BigEndian.Uint16(ip[2:])) }

// ID returns the identification field.
func (ip IPv4) ID() uint16 { return binary.BigEndian.Uint16(ip[4:]) }

// FlagsFrag returns the flags and fragment offset word.
func (ip IPv4) FlagsFrag() uint16 { return binary.BigEndian.Uint16(ip[6:]) }

// DF reports whether the don't-fragment bit is set.
func (ip IPv4) DF() bool { return ip.FlagsFrag()&IPv4FlagDF != 0 }

// IsFragment reports whether this is a fragment (MF set or offset > 0).
func (ip IPv4) IsFragment() bool { return ip.FlagsFrag()&(IPv4FlagMF|IPv4FragOffMask) != 0 }

// FragOffset returns the fragment offset in bytes.
func (ip IPv4) FragOffset() int { return int(ip.FlagsFrag()&IPv4FragOffMask) * 8 }

// TTL returns the time to live.
func (ip IPv4) TTL() uint8 { return ip[8] }

// Protocol returns the payload's protocol number.
func (ip IPv4) Protocol() uint8 { return ip[9] }

// Checksum returns the header checksum field.
func (ip IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(ip[10:]) }

// Src returns the source address.
func (ip IPv4) Src() (a [4]byte) { copy(a[:], ip[12:16]); return }

// Dst returns the destination address.
func (ip IPv4) Dst() (a [4]byte) { copy(a[:], ip[16:20]); return }

// Options returns the options bytes.
func (ip IPv4) Options() []byte { return ip[IPv4MinLen:ip.HeaderLen()] }

// Payload returns the bytes after the header up to the total length.
func (ip IPv4) Payload() []byte { return ip[ip.HeaderLen():ip.TotalLen()] }

// SetVersionIHL sets version 4 and the header length in bytes.
func (ip IPv4) SetVersionIHL(hl int) { ip[0] = 0x40 | uint8(hl/4)&0x0f }

// SetTOS sets the type-of-service byte.
func (ip IPv4) SetTOS(v uint8) { ip[1] = v }

// SetTotalLen sets the total length.
func (ip IPv4) SetTotalLen(n int) { binary.BigEndian.PutUint16(ip[2:], uint16(n)) }

// SetID sets the identification.
func (ip IPv4) SetID(id uint16) { binary.BigEndian.PutUint16(ip[4:], id) }

// SetFlagsFrag sets the flags and fragment offset word.
func (ip IPv4) SetFlagsFrag(v uint16) { binary.BigEndian.PutUint16(ip[6:], v) }

// SetTTL sets the time to live.
func (ip IPv4) SetTTL(t uint8) { ip[8] = t }

// SetProtocol sets the protocol number.
func (ip IPv4) SetProtocol(p uint8) { ip[9] = p }

// SetChecksum sets the header checksum field.
func (ip IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(ip[10:], c) }

// SetSrc sets the source address.
func (ip IPv4) SetSrc(a [4]byte) { copy(ip[12:16], a[:]) }

// SetDst sets the destination address.
func (ip IPv4) SetDst(a [4]byte) { copy(ip[16:20], a[:]) }

// CalcChecksum computes the header checksum (with the field as zero).
func (ip IPv4) CalcChecksum() uint16 {
	hl := ip.HeaderLen()
	s := Sum(ip[:10], 0)
	s = Sum(ip[12:hl], s)
	return ^Fold(s)
}

// UpdateChecksum recomputes and stores the header checksum.
func (ip IPv4) UpdateChecksum() { ip.SetChecksum(ip.CalcChecksum()) }

// ChecksumValid reports whether the header checksum is right.
func (ip IPv4) ChecksumValid() bool { return Fold(Sum(ip[:ip.HeaderLen()], 0)) == 0xffff }

// DecTTL decrements the TTL and patches the checksum incrementally
// (RFC 1624), returning the new TTL.
func (ip IPv4) DecTTL() uint8 {
	old := binary.BigEndian.Uint16(ip[8:])
	ip[8]--
	ip.SetChecksum(UpdateChecksum(ip.Checksum(), old, binary.BigEndian.Uint16(ip[8:])))
	return ip[8]
}

// PseudoSum returns the pseudo-header sum for the payload of length n.
func (ip IPv4) PseudoSum(proto uint8, n int) uint64 {
	return PseudoSum4(ip.Src(), ip.Dst(), proto, n)
}

// IPv4 option types the router looks at.
const (
	IPv4OptEnd  = 0
	IPv4OptNOP  = 1
	IPv4OptLSRR = 131
	IPv4OptSSRR = 137
	IPv4OptRR   = 7
	IPv4OptTS   = 68
)

// WalkOptions calls fn for each option (type and whole option bytes) and
// reports false when the options are malformed.
func (ip IPv4) WalkOptions(fn func(typ uint8, opt []byte) bool) bool {
	opts := ip.Options()
	for len(opts) > 0 {
		t := opts[0]
		switch t {
		case IPv4OptEnd:
			return true
		case IPv4OptNOP:
			if !fn(t, opts[:1]) {
				return true
			}
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return false
		}
		l := int(opts[1])
		if !fn(t, opts[:l]) {
			return true
		}
		opts = opts[l:]
	}
	return true
}
