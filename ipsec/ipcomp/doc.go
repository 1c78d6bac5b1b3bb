// Package ipcomp is IP payload compression (RFC 3173) with Deflate
// (RFC 2394) over bursts of packets: transport and tunnel mode, IPv4 and
// IPv6. Like ipsec/esp and ipsec/ah it does no lookups and no policy.
//
//	Encap (bare IP packet, SA):
//	  payload (transport: after the IP header / IPv6 unfragmentable part;
//	  tunnel: the whole packet) shorter than Options.MinLen ─► sent as is
//	  ─► deflate into per-core scratch, stopping as soon as the output is
//	     not smaller than the payload ─► not smaller: sent as is
//	  ─► write [outer IP] IPComp(next, CPI) compressed payload
//	  "As is" in tunnel mode is plain IP-in-IP (RFC 3173 §2.2).
//
//	Decap (outer packet, IPComp at Meta.L4Off; or, for a tunnel SA, plain
//	IP-in-IP that the peer sent uncompressed):
//	  inflate into per-core scratch, bounded by 65,535 bytes, Options.MaxLen
//	  (the MTU) and Options.MaxRatio x the compressed size; past a bound or
//	  on a corrupt stream the packet is a counted drop (decompress)
//	  ─► tunnel: the inner packet (RFC 6040 ECN); transport: the header with
//	     next header and lengths fixed in front of the payload
//	  ─► History step, L4 hint
//
// The CPI on the wire is the low 16 bits of the SA's SPI when the SA says
// so (setkey -C deflate -R), else the well-known CPI of deflate (2), as
// FreeBSD's setkey(8) describes. Every packet is compressed on its own
// (RFC 2394 §2: no history across packets). Each core has one
// compressor, package deflate (LZ77 with the fixed Huffman codes: no
// tables to build or send per packet), and one klauspost/compress
// decompressor reset for each packet, so the steady state allocates
// nothing.
package ipcomp
