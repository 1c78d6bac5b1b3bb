package pcap

import (
	"strconv"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// LinkType is a pcap LINKTYPE_ value.
type LinkType uint32

// Link types the port understands.
const (
	LinkTypeEthernet LinkType = 1   // LINKTYPE_ETHERNET
	LinkTypeRawBSD   LinkType = 12  // DLT_RAW as written by some BSDs
	LinkTypeRaw      LinkType = 101 // LINKTYPE_RAW: IPv4 or IPv6
	LinkTypeIPv4     LinkType = 228 // LINKTYPE_IPV4
	LinkTypeIPv6     LinkType = 229 // LINKTYPE_IPV6
)

// String names the link type the way port configs do.
func (l LinkType) String() string {
	switch l {
	case LinkTypeEthernet:
		return "ethernet"
	case LinkTypeRaw, LinkTypeRawBSD:
		return "raw"
	case LinkTypeIPv4:
		return "raw-ipv4"
	case LinkTypeIPv6:
		return "raw-ipv6"
	}
	return "linktype " + strconv.FormatUint(uint64(l), 10)
}

// PortLink maps a file link type to the port link type; ok is false for
// link types a port cannot carry.
func (l LinkType) PortLink() (lt pkt.LinkType, ok bool) {
	switch l {
	case LinkTypeEthernet:
		return pkt.LinkEthernet, true
	case LinkTypeRaw, LinkTypeRawBSD, LinkTypeIPv4, LinkTypeIPv6:
		return pkt.LinkRawIP, true
	}
	return 0, false
}

// FileLinkType returns the link type a Writer uses for a port link type:
// ethernet (1) or raw (101).
func FileLinkType(lt pkt.LinkType) LinkType {
	if lt == pkt.LinkRawIP {
		return LinkTypeRaw
	}
	return LinkTypeEthernet
}
