// Package hdr has typed views over packet headers: Ethernet (+802.1Q), ARP,
// IPv4 (with options), IPv6 (with an extension-header walker), UDP, TCP,
// ICMPv4, ICMPv6 (with neighbour discovery options), ESP, AH and IPComp,
// plus Internet checksums with incremental update.
//
// Each view is a []byte starting at the header. IsValid(n) — where n is
// the number of bytes available — gates every other method: accessors do
// not re-check lengths, so call IsValid first and slice the view to the
// header's real extent. Views never allocate.
//
//	frame ─► Ethernet ─► [VLAN] ─► IPv4 / IPv6 ─► [ext hdrs] ─► UDP/TCP/ICMP/ESP/AH/IPComp
package hdr

// IP protocol numbers used by the router.
const (
	ProtoHopByHop  = 0
	ProtoICMP      = 1
	ProtoIPIP      = 4
	ProtoTCP       = 6
	ProtoUDP       = 17
	ProtoIPv6      = 41
	ProtoRouting   = 43
	ProtoFragment  = 44
	ProtoESP       = 50
	ProtoAH        = 51
	ProtoICMPv6    = 58
	ProtoNoNext    = 59
	ProtoDstOpts   = 60
	ProtoIPComp    = 108
	ProtoMobility  = 135
	ProtoHIP       = 139
	ProtoShim6     = 140
	ProtoReserved1 = 253 // experimental ext header (RFC 3692)
	ProtoReserved2 = 254
)

// EtherTypes.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeVLAN = 0x8100
	EtherTypeQinQ = 0x88a8
	EtherTypeIPv6 = 0x86dd
)
