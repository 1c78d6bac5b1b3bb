// Package ah is the AH transform (RFC 4302) over bursts of packets: the
// integrity algorithms of ipsec/alg (HMAC-MD5-96, HMAC-SHA1-96,
// HMAC-SHA2-256/384/512, AES-XCBC-MAC-96, AES-CMAC-96) and AES-GMAC
// (RFC 4543), transport and tunnel mode, IPv4 and IPv6, 32-bit and
// extended sequence numbers. Like ipsec/esp it does no lookups and no
// policy: the stages pass one SA per packet and get a reason back.
//
//	Encap (bare IP packet, SA):
//	  check, plan the room ─► per SA run: ReserveSeq(n)
//	  ─► write [outer IP] AH(ICV 0) payload   (transport: AH after the IPv4
//	     header / the IPv6 unfragmentable part)
//	  ─► save the headers in front of AH, zero their mutable fields
//	  ─► Engine.Seal(whole burst): ICV = MAC(packet [|| SeqHi])
//	  ─► restore the headers ─► Account per SA run
//
//	Decap (outer IP packet, AH at Meta.L4Off):
//	  lengths (AH length must be the SA's) ─► per SA run: replay Check
//	  ─► save headers, zero mutable fields, move the ICV aside, zero it
//	  ─► Engine.Open(whole burst) (constant-time compare) ─► restore
//	  ─► per SA run: replay Commit ─► strip: tunnel: the inner packet
//	     (RFC 6040 ECN); transport: the header moved up to the payload
//	  ─► History step, L4 hint ─► Account per SA run
//
// The ICV covers the whole packet with the mutable fields zeroed (RFC 4302
// §3.3.3.1 and Appendix A):
//
//	IPv4  TOS (when ah_cleartos is non-zero), flags and fragment offset
//	      ANDed with ah_offsetmask, TTL, header checksum; every option but
//	      EOL, NOP, Security (130), Extended Security (133), Commercial
//	      Security (134), Router Alert (148) and SDMDD (149) zeroed whole;
//	      on output a source route's final address stands in for the
//	      destination (what the receiver will see).
//	IPv6  traffic class, flow label, hop limit; in hop-by-hop and
//	      destination options, the data of options whose type has the
//	      "may change en route" bit (0x20); a type 0 or 2 routing header
//	      with segments left is taken at its final value (destination and
//	      addresses rotated, segments left 0).
//
// The ICV field is padded to 32 bits (IPv4) or 64 bits (IPv6) with zeros.
// AES-GMAC carries its 8-byte IV between the sequence number and the
// 16-byte tag; the IV is authenticated, the tag field zeroed. With ESN the
// high 32 bits of the sequence number are appended to the ICV input.
//
// Headers are massaged in place and restored from a per-core arena, so a
// packet is never copied. A Processor belongs to one core; its scratch
// grows to the largest burst once and is reused.
package ah
