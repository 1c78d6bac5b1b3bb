// Package stats holds the dataplane's counters: why packets were dropped
// (one enum for every stage), what each core did, and what each port moved.
//
// Drops are data, not errors: a stage that rejects a packet records a
// Reason in its core's Counters and frees the buffer; nothing is logged
// per packet. Counters are written by their own core and read by anyone.
package stats

// Reason says why a packet was dropped (or absorbed). Every stage uses
// this one enum so operators see all drops in one table.
type Reason uint16

// Drop reasons. Add new ones before NumReasons and give them a name in
// reasonNames.
const (
	ReasonNone Reason = iota
	// L2
	ReasonRuntFrame       // shorter than an Ethernet header
	ReasonBadEtherType    // not IPv4, IPv6, ARP or 802.1Q
	ReasonNotForUs        // unicast frame for another MAC
	ReasonVLANUnsupported // tagged frame on an untagged port
	ReasonARPMalformed    // ARP we cannot parse
	ReasonARPIgnored      // ARP not asking for us (normal, counted)
	// IPv4 / IPv6 header checks
	ReasonIPTruncated     // shorter than its header or total length
	ReasonIPBadVersion    // version field wrong for the EtherType
	ReasonIPBadHeaderLen  // IHL < 5 or past the packet
	ReasonIPBadChecksum   // IPv4 header checksum wrong
	ReasonIPBadLength     // total/payload length inconsistent
	ReasonIPBadSource     // multicast, broadcast or loopback source
	ReasonIPBadDest       // loopback, unspecified or martian destination
	ReasonMulticast       // multicast or broadcast destination (not routed)
	ReasonIPFragment      // fragment where a whole packet is needed
	ReasonIPv6BadExtHdr   // malformed IPv6 extension header chain
	ReasonIPOptions       // IPv4 options we refuse (source route)
	ReasonTTLExceeded     // TTL or hop limit reached zero (ICMP sent)
	ReasonNoRoute         // no route (ICMP unreachable sent)
	ReasonNoNeighbor      // next hop did not resolve in time
	ReasonNeighborQueue   // too many packets waiting for resolution
	ReasonFragNeeded      // too big with DF set (ICMP sent)
	ReasonFragFailed      // could not fragment (no buffers)
	ReasonICMPRateLimited // ICMP error suppressed by the rate limiter
	ReasonICMPNotAllowed  // no ICMP error for this packet (RFC 1812 4.3.2.7)
	ReasonICMPMalformed   // ICMP/ICMPv6 message we cannot parse
	ReasonNDMalformed     // neighbour discovery message invalid
	ReasonNDIgnored       // neighbour discovery not for us
	ReasonHostPathNone    // local packet and no host path configured
	ReasonHostPathFull    // host path port refused the packet
	ReasonLocalUnhandled  // local packet the router itself does not answer
	ReasonNoBuffer        // packet pool exhausted
	ReasonTxFull          // tx queue full
	ReasonPortDown        // output port missing or down
	// IPsec (filled by the ESP, AH, IPComp and policy stages)
	ReasonPolicyDiscard  // SPD said discard
	ReasonPolicyNoSA     // SPD requires IPsec, no usable SA
	ReasonPolicyMismatch // inbound packet did not satisfy its policy
	ReasonNoSA           // unknown SPI
	ReasonBadICV         // integrity check failed
	ReasonReplay         // anti-replay window rejected it
	ReasonBadPadding     // ESP padding bytes wrong
	ReasonBadESPLength   // ESP payload length wrong
	ReasonBadAHLength    // AH header length wrong for the SA's ICV
	ReasonBadTrailer     // ESP/AH next header invalid
	ReasonSAExpired      // SA hard lifetime reached
	ReasonSeqWrap        // sequence number would wrap
	ReasonProtoDisabled  // esp/ah/ipcomp_enable is 0
	ReasonDecompress     // IPComp decompression failed or bounded
	ReasonDummy          // ESP dummy packet (next header 59), absorbed
	ReasonNATKeepalive   // NAT-T keepalive, absorbed
	ReasonTooManyHeaders // nested IPsec deeper than the history
	ReasonEncFilter      // dropped by an enc0 filter rule
	ReasonAcquireQueue   // ACQUIRE queue full
	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:            "none",
	ReasonRuntFrame:       "runt-frame",
	ReasonBadEtherType:    "bad-ethertype",
	ReasonNotForUs:        "not-for-us",
	ReasonVLANUnsupported: "vlan-unsupported",
	ReasonARPMalformed:    "arp-malformed",
	ReasonARPIgnored:      "arp-ignored",
	ReasonIPTruncated:     "ip-truncated",
	ReasonIPBadVersion:    "ip-bad-version",
	ReasonIPBadHeaderLen:  "ip-bad-header-length",
	ReasonIPBadChecksum:   "ip-bad-checksum",
	ReasonIPBadLength:     "ip-bad-length",
	ReasonIPBadSource:     "ip-bad-source",
	ReasonIPBadDest:       "ip-bad-destination",
	ReasonMulticast:       "multicast",
	ReasonIPFragment:      "ip-fragment",
	ReasonIPv6BadExtHdr:   "ipv6-bad-extension-header",
	ReasonIPOptions:       "ip-options",
	ReasonTTLExceeded:     "ttl-exceeded",
	ReasonNoRoute:         "no-route",
	ReasonNoNeighbor:      "no-neighbor",
	ReasonNeighborQueue:   "neighbor-queue-full",
	ReasonFragNeeded:      "fragmentation-needed",
	ReasonFragFailed:      "fragmentation-failed",
	ReasonICMPRateLimited: "icmp-rate-limited",
	ReasonICMPNotAllowed:  "icmp-not-allowed",
	ReasonICMPMalformed:   "icmp-malformed",
	ReasonNDMalformed:     "nd-malformed",
	ReasonNDIgnored:       "nd-ignored",
	ReasonHostPathNone:    "hostpath-none",
	ReasonHostPathFull:    "hostpath-full",
	ReasonLocalUnhandled:  "local-unhandled",
	ReasonNoBuffer:        "no-buffer",
	ReasonTxFull:          "tx-full",
	ReasonPortDown:        "port-down",
	ReasonPolicyDiscard:   "policy-discard",
	ReasonPolicyNoSA:      "policy-no-sa",
	ReasonPolicyMismatch:  "policy-mismatch",
	ReasonNoSA:            "no-sa",
	ReasonBadICV:          "bad-icv",
	ReasonReplay:          "replay",
	ReasonBadPadding:      "bad-padding",
	ReasonBadESPLength:    "bad-esp-length",
	ReasonBadAHLength:     "bad-ah-length",
	ReasonBadTrailer:      "bad-trailer",
	ReasonSAExpired:       "sa-expired",
	ReasonSeqWrap:         "sequence-wrap",
	ReasonProtoDisabled:   "protocol-disabled",
	ReasonDecompress:      "decompress",
	ReasonDummy:           "esp-dummy",
	ReasonNATKeepalive:    "nat-keepalive",
	ReasonTooManyHeaders:  "too-many-headers",
	ReasonEncFilter:       "enc-filter",
	ReasonAcquireQueue:    "acquire-queue-full",
}

// String returns the reason's stable name (used in stats output).
func (r Reason) String() string {
	if r < NumReasons && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "unknown"
}
