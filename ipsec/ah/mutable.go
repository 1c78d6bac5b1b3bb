package ah

import (
	"encoding/binary"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// zeroMutable zeroes, in place, the mutable fields of the headers in
// data[:n] (everything in front of AH) for the ICV computation; out says
// the packet is being sent (a source route's final address then stands in
// for the destination). The caller saved the headers and restores them.
func zeroMutable(data []byte, n int, v6, out bool, opt *Options) stats.Reason {
	if v6 {
		return zeroMutable6(data, n)
	}
	return zeroMutable4(data, n, out, opt)
}

// IPv4 options whose value cannot change in transit (RFC 4302 A.1).
func immutable4(t uint8) bool {
	switch t {
	case hdr.IPv4OptEnd, hdr.IPv4OptNOP, 130, 133, 134, 148, 149:
		return true
	}
	return false
}

func zeroMutable4(data []byte, n int, out bool, opt *Options) stats.Reason {
	ip := hdr.IPv4(data)
	if opt.ClearTOS {
		ip.SetTOS(0)
	}
	ip.SetFlagsFrag(ip.FlagsFrag() & opt.OffsetMask)
	ip.SetTTL(0)
	ip.SetChecksum(0)
	for off := hdr.IPv4MinLen; off < n; {
		t := data[off]
		if t == hdr.IPv4OptEnd {
			break
		}
		if t == hdr.IPv4OptNOP {
			off++
			continue
		}
		if off+1 >= n || data[off+1] < 2 || off+int(data[off+1]) > n {
			return stats.ReasonIPOptions
		}
		l := int(data[off+1])
		if immutable4(t) {
			off += l
			continue
		}
		if out && (t == hdr.IPv4OptLSRR || t == hdr.IPv4OptSSRR) && l >= 7 {
			copy(data[16:20], data[off+l-4:off+l])
		}
		clear(data[off : off+l])
		off += l
	}
	return stats.ReasonNone
}

// optMutable is the option-type bit saying the data may change en route
// (RFC 8200 §4.2).
const optMutable = 0x20

func zeroMutable6(data []byte, n int) stats.Reason {
	// Version stays; traffic class and flow label go.
	binary.BigEndian.PutUint32(data[0:], 6<<28)
	hdr.IPv6(data).SetHopLimit(0)
	nh := data[6]
	for off := hdr.IPv6Len; off < n; {
		if off+8 > n {
			return stats.ReasonIPv6BadExtHdr
		}
		l := (int(data[off+1]) + 1) * 8
		if nh == hdr.ProtoFragment {
			l = 8
		}
		if off+l > n {
			return stats.ReasonIPv6BadExtHdr
		}
		switch nh {
		case hdr.ProtoHopByHop, hdr.ProtoDstOpts:
			if !zeroOptions6(data[off+2 : off+l]) {
				return stats.ReasonIPv6BadExtHdr
			}
		case hdr.ProtoRouting:
			if !finalRouting(data, data[off:off+l]) {
				return stats.ReasonIPv6BadExtHdr
			}
		case hdr.ProtoFragment:
			return stats.ReasonIPFragment
		}
		nh = data[off]
		off += l
	}
	return stats.ReasonNone
}

// zeroOptions6 zeroes the data of the mutable options in opts.
func zeroOptions6(opts []byte) bool {
	for k := 0; k < len(opts); {
		if opts[k] == 0 { // Pad1
			k++
			continue
		}
		if k+2 > len(opts) || k+2+int(opts[k+1]) > len(opts) {
			return false
		}
		l := int(opts[k+1])
		if opts[k]&optMutable != 0 {
			clear(opts[k+2 : k+2+l])
		}
		k += 2 + l
	}
	return true
}

// finalRouting rewrites a routing header rh of packet data to the value
// it has at the final destination: for types 0 and 2 with segments left,
// the destination becomes the last address, the addresses shift up by one
// with the current destination in front, and segments left becomes 0.
// Other types are taken as they are only with no segments left.
func finalRouting(data, rh []byte) bool {
	left := int(rh[3])
	if left == 0 {
		return true
	}
	if rh[2] != 0 && rh[2] != 2 {
		return false // cannot predict an unknown routing type
	}
	addrs := rh[8:]
	n := len(addrs) / 16
	if len(addrs)%16 != 0 || left > n {
		return false
	}
	// At the destination the header reads: dst = a[n-1], addresses
	// a[0..n-left-1] as sent, then the visited hops dst0, a[n-left..n-2].
	var last [16]byte
	copy(last[:], addrs[(n-1)*16:])
	first := n - left
	copy(addrs[(first+1)*16:], addrs[first*16:(n-1)*16])
	copy(addrs[first*16:(first+1)*16], data[24:40])
	copy(data[24:40], last[:])
	rh[3] = 0
	return true
}
