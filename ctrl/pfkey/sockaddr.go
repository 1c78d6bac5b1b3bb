package pfkey

import (
	"encoding/binary"
	"net/netip"
	"syscall"
)

// Host-order fields (lengths, types, families on Linux, spirange, ...)
// use the machine's byte order, as the kernels do; ports, SPIs, flow
// labels and addresses are in network order.
var host = binary.NativeEndian

// sockaddr sizes without padding: sockaddr_in and sockaddr_in6.
const (
	sinLen  = 16
	sin6Len = 28
)

// sockaddr is a decoded sockaddr_in or sockaddr_in6.
type sockaddr struct {
	ap       netip.AddrPort
	flowInfo uint32
	scopeID  uint32
}

// family returns the dialect's address family number for an address.
func family(d Dialect, a netip.Addr) int {
	switch {
	case a.Is4():
		return 2
	case a.Is6() && d == FreeBSD:
		return FreeBSDAFInet6
	case a.Is6():
		return LinuxAFInet6
	}
	return 0
}

// sockaddrSize is the unpadded size of the sockaddr for a (0 if invalid).
func sockaddrSize(a netip.Addr) int {
	switch {
	case a.Is4():
		return sinLen
	case a.Is6():
		return sin6Len
	}
	return 0
}

// peekSockaddr reads the family of the sockaddr at b and returns its
// unpadded size. errno is EINVAL for truncated or inconsistent input,
// EAFNOSUPPORT (FreeBSD) or EINVAL (Linux) for a family other than IPv4/6.
func peekSockaddr(d Dialect, b []byte) (size int, errno syscall.Errno, reason string) {
	if len(b) < 2 {
		return 0, syscall.EINVAL, "sockaddr truncated"
	}
	switch d {
	case FreeBSD:
		saLen, fam := int(b[0]), b[1]
		switch fam {
		case FreeBSDAFInet:
			size = sinLen
		case FreeBSDAFInet6:
			size = sin6Len
		default:
			return 0, syscall.EAFNOSUPPORT, "unsupported address family " + itoa(int(fam))
		}
		if saLen != size {
			return 0, syscall.EINVAL, "sa_len " + itoa(saLen) + " does not match its family"
		}
	case Linux:
		switch fam := host.Uint16(b); fam {
		case LinuxAFInet:
			size = sinLen
		case LinuxAFInet6:
			size = sin6Len
		default:
			return 0, syscall.EINVAL, "unsupported address family " + itoa(int(fam))
		}
	}
	if len(b) < size {
		return 0, syscall.EINVAL, "sockaddr truncated"
	}
	return size, 0, ""
}

// parseSockaddr decodes a sockaddr already sized by peekSockaddr.
func parseSockaddr(b []byte, size int) sockaddr {
	port := binary.BigEndian.Uint16(b[2:])
	if size == sinLen {
		return sockaddr{ap: netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)}
	}
	return sockaddr{
		ap:       netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port),
		flowInfo: binary.BigEndian.Uint32(b[4:]),
		scopeID:  host.Uint32(b[24:]),
	}
}

// appendSockaddr appends the unpadded sockaddr for s in dialect d. The
// caller has checked that s.ap.Addr() is IPv4 or IPv6.
func appendSockaddr(d Dialect, b []byte, s sockaddr) []byte {
	a := s.ap.Addr()
	size := sockaddrSize(a)
	start := len(b)
	b = append(b, make([]byte, size)...)
	p := b[start:]
	if d == FreeBSD {
		p[0], p[1] = byte(size), byte(family(d, a))
	} else {
		host.PutUint16(p, uint16(family(d, a)))
	}
	binary.BigEndian.PutUint16(p[2:], s.ap.Port())
	if a.Is4() {
		v := a.As4()
		copy(p[4:], v[:])
		return b
	}
	binary.BigEndian.PutUint32(p[4:], s.flowInfo)
	v := a.As16()
	copy(p[8:], v[:])
	host.PutUint32(p[24:], s.scopeID)
	return b
}

func align8(n int) int { return (n + 7) &^ 7 }

func maxPrefix(a netip.Addr) int {
	if a.Is4() {
		return 32
	}
	return 128
}
