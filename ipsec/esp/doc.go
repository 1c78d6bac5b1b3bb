// Package esp is the ESP transform (RFC 4303) over bursts of packets, with
// NAT traversal (RFC 3948), ECN tunnelling (RFC 6040) and TFC padding. It
// does no lookups, no policy and no routing: the IPsec stages pass one SA
// per packet, and get a drop reason per packet back.
//
//	Encap (bare IP packet, SA), per run of packets sharing an SA:
//	  what the SA needs worked out once (encapSA: lengths, padding mask,
//	  outer IPv4 words and their partial checksum)
//	  ─► check each packet, plan the room (headroom, tailroom; Move if needed)
//	  ─► ReserveSeq(n)                       (non-ESN exhaustion: seq-wrap, hard expiry)
//	  ─► write  [outer IP] [UDP] ESP IV payload [TFC] pad padlen nexthdr [ICV]
//	     (transport: ESP inserted after the IPv4 header / IPv6 unfragmentable part)
//	  ─► Engine.Seal(whole burst) ─► per run: status, ESN AAD back, IPv6 NAT-T
//	     UDP checksum ─► Account once per run
//
//	Decap (outer IP packet, ESP at Meta.L4Off or after its UDP header), per run:
//	  length sanity ─► locked: replay Check ─► op
//	  ─► Engine.Open(whole burst)  (ICV verified before anything is decrypted)
//	  ─► per run, locked: replay Commit ─► padding 1,2,3... ─► next header 59: dummy
//	  ─► strip: tunnel: the inner packet (RFC 6040 ECN); transport: the header moved
//	     up to the payload, next header / lengths / checksum fixed (NAT-T: L4 checksum)
//	  ─► History step, L4 hint ─► Account once per run
//
// The hot path never looks at algorithm IDs: the session's properties
// (IV and ICV lengths, padding alignment, AEAD, AAD-only) are read once per
// run. Ops go to the engine in packet order, so the passes after the crypto
// pair them up with the live packets by counting.
//
// With ESN the AEAD additional data (SPI || SeqHi || SeqLo) is built in place:
// the SPI is copied into the 4 bytes in front of the ESP header (saved and
// restored around the crypto call) and SeqHi is written over the SPI, so no
// packet is ever copied. Byte lifetimes count the clear IP packet: what
// Encap was handed and what Decap returns, the same on both ends.
//
// A Processor belongs to one core; its scratch grows to the largest burst
// once and is reused, so the steady state allocates nothing.
package esp
