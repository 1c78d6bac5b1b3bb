// Package reasm reassembles IPv4 (RFC 791, RFC 815) and IPv6 (RFC 8200
// §4.5) fragments addressed to the router, so that inbound ESP and IKE
// datagrams are whole before decapsulation. One Table per core; it is not
// safe for concurrent use.
//
// Flow:
//
//	fragment ─► Add ─► key (v4: src,dst,id,proto · v6: src,dst,id) ─► datagram slot
//	                     │ v6 atomic fragment: Fragment header stripped, returned at once
//	                     │ checks: M/offset/length sane, no overlap (exact duplicates
//	                     │ dropped alone), ≤ MaxFrags, ≤ MaxSize, ≤ MaxBytes (evict oldest)
//	                     ▼
//	               fragments held (sorted by offset, Buf kept, no copy yet)
//	                     │ all bytes present
//	                     ▼
//	               output Buf (rx cache when it fits, else a 64 KiB buffer of the
//	               Table's own set) ◄─ first fragment's header + every payload
//	                     │ v4: total length, flags, checksum · v6: Fragment header
//	                     ▼ removed, next header and payload length fixed
//	               caller (decapsulation, host path)
//
//	core timer ─► Expire: datagrams older than Timeout are dropped whole
//
// Policy, chosen for a security gateway:
//
//   - Overlapping fragments drop the whole datagram, for IPv6 (RFC 5722) and
//     for IPv4 alike (overlaps have no legitimate use and are how IDS
//     evasion and teardrop attacks work). A fragment with the same offset,
//     length and bytes as one already held is an exact duplicate: it is
//     dropped alone (RFC 5722 allows it) and the datagram goes on. Same
//     range but different bytes counts as an overlap.
//   - The header of the fragment at offset 0 becomes the datagram's header
//     (IPv4 options, IPv6 per-fragment headers); other fragments' headers
//     may differ in size and are ignored.
//   - IPv6 atomic fragments (offset 0, M=0) are not reassembled with
//     anything: the Fragment header is removed and the packet returned
//     (RFC 6946). A first fragment that does not hold the whole header chain
//     up to the upper-layer header is dropped (RFC 7112).
//   - Non-last fragments must carry a multiple of 8 bytes; empty fragments,
//     a second "last" fragment that disagrees on the length, and data past
//     the end are malformed and drop the datagram.
//   - ECN (RFC 3168 §5.3): Not-ECT mixed with ECT/CE drops the datagram; CE
//     on any fragment is carried to the reassembled header.
//   - Bounds: MaxPackets datagrams (the oldest is evicted for a new one),
//     MaxFrags per datagram, MaxBytes of fragment buffers held (counted as
//     Buf.Cap, the memory really pinned, so tiny fragments cannot hide
//     behind a byte count; the oldest datagrams are evicted to make room),
//     MaxSize per reassembled datagram, Timeout from the first fragment.
//
// Drops go through the caller's drop callback: stats.ReasonIPFragment for
// malformed, overlapping, oversized, too-many and timed-out fragments,
// stats.ReasonNoBuffer for evictions and missing output buffers, and the
// header reasons (ReasonIPTruncated, ReasonIPv6BadExtHdr, ReasonIPBadVersion)
// for packets that are not valid IP at all. Counters tells them apart.
//
// Memory is allocated once by New: datagram slots, fragment slots
// (MaxPackets×MaxFrags), a hash index keyed with a random seed, and
// LargeBufs output buffers big enough for MaxSize. Add and Expire do not
// allocate.
package reasm
