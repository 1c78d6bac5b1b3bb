package pkt

// LinkType says what a port's frames start with.
type LinkType uint8

const (
	// LinkEthernet frames start with an Ethernet header (DLT_EN10MB).
	LinkEthernet LinkType = iota
	// LinkRawIP frames are bare IPv4 or IPv6 packets (DLT_RAW, TUN).
	LinkRawIP
)

// String names the link type as the config does.
func (l LinkType) String() string {
	switch l {
	case LinkEthernet:
		return "ethernet"
	case LinkRawIP:
		return "raw"
	}
	return "unknown"
}
