// Package setkey parses the configuration syntax of FreeBSD's setkey(8)
// (-f file, -c stdin) into plain values: SAs as sad.Config plus the few
// flags sad.Config has no room for, and policies as selectors with their
// ipsec_set_policy(3) requests. It does no I/O beyond reading its input and,
// only when Options.LookupHost is set, resolving host names.
//
//	sa.conf ──scanner──► statements (split at ";", "#" comments dropped)
//	                         │ one recursive-descent parser per command
//	                         ▼
//	                     []Command ──► ctrl (sad.New, SPD) / setkey CLI
//	                         └──► errors.Join of *Error "sa.conf:12: ..."
//
// Grammar (FreeBSD 14 setkey(8); [] optional, ... repeated):
//
//	add       [-46n] src dst protocol spi [extensions] algorithm... ;
//	get       [-46n] src dst protocol spi [extensions] ;
//	delete    [-46n] src dst protocol spi [extensions] ;
//	deleteall [-46n] src dst protocol ;
//	flush [protocol] ;                dump [protocol] ;
//	spdadd    [-46n] src_range dst_range upperspec [icmp-type[,code]] policy ;
//	spdupdate [-46n] src_range dst_range upperspec [icmp-type[,code]] policy ;
//	spddelete [-46n] src_range dst_range upperspec [icmp-type[,code]] -P direction ;
//	spdflush ;                        spddump ;
//
//	protocol   esp | esp-old | ah | ah-old | ipcomp | tcp (TCP-MD5, RFC 2385:
//	           parsed, Proto ProtoTCP, not installable) | esp-udp (ipsec-tools:
//	           ESP in UDP, RFC 3948; ports from src[port] dst[port], default 4500)
//	spi        decimal or 0x hex, 32 bits; 0-255 are reserved for esp and ah.
//	           For ipcomp with -R it is the CPI on the wire (16 bits).
//	src, dst   IPv4/IPv6 address, optionally addr[port]
//	src_range  address[/prefixlen][[port]]; port is a number or "any"
//	upperspec  any | a number (255 = any) | a protocol name (tcp, udp, icmp,
//	           icmp6 = ipv6-icmp, gre, esp, ah, ip4 = ipencap, ...); icmp and
//	           icmp6 may be followed by "type" or "type,code"
//
//	extensions -m transport|tunnel|any     mode (default any)
//	           -r size    replay bitmap in OCTETS, as FreeBSD: the window is
//	                      8 x size packets (-r 4 = 32 packets; 0 = no check)
//	           -u reqid   -lh / -ls seconds (hard / soft add-time lifetime)
//	           -bh / -bs bytes (ipsec-tools: hard / soft byte lifetime)
//	           -f zero-pad | random-pad | seq-pad | nocyclic-seq   (recorded)
//	           -natt oai[sport] oar[dport]   FreeBSD: NAT-T (UDP encapsulation)
//	                      with these ports; oai/oar are the NAT original addresses
//	           -natt_mtu n   FreeBSD: NAT-T fragment size (recorded)
//	           -esn       FreeBSD: 64-bit extended sequence numbers
//	algorithm  -E ealgo key [-A aalgo key]  (esp)    -A aalgo key  (ah, tcp)
//	           -C deflate [-R]              (ipcomp)
//	key        0x hex digits (an odd count gets a leading zero nibble, as
//	           FreeBSD) or a "double-quoted string" taken byte for byte
//
//	policy     -P direction [priority] discard | none | entrust | bypass
//	           -P direction [priority] ipsec request...
//	direction  in | out | fwd
//	priority   (ipsec-tools) prio|priority N | -N | low | def | high
//	           | base + N | base - N; higher wins: low = -2^30, def = 0,
//	           high = 2^30, written into Policy.Priority as is; the PF_KEY
//	           value is WirePriority() = 0x80000000 - Priority
//	request    protocol/mode/src-dst/level with protocol esp|ah|ipcomp, mode
//	           transport|tunnel, src-dst empty for transport (esp/transport//require),
//	           required for tunnel, addresses may carry [port] (ipsec-tools,
//	           ESP in UDP); level default|use|require|unique|unique:reqid
//	           (reqid 1-32767); trailing parts may be left out (esp/transport)
//
// Algorithm names are looked up in ipsec/alg's registry (EncByName,
// AuthByName), so besides FreeBSD's names (null, aes-cbc, aes-ctr,
// aes-gcm-16; hmac-sha1, hmac-sha2-256/384/512, aes-xcbc-mac, null) the
// registry's other names and aliases are accepted: aes-gcm-12, aes-gcm-8,
// aes-gmac, chacha20-poly1305, 3des-cbc, hmac-md5, aes-cmac, rijndael-cbc,
// hmac-sha256, ... Key lengths are checked against the algorithm. An AEAD
// algorithm takes no -A (except "-A null", meaning none); esp needs -E
// (use "-E null" for integrity only); -E null needs a real -A. For ah,
// "-A aes-gmac key" is AES-GMAC (RFC 4543), its key followed by a 4-byte
// salt as for esp's -E aes-gmac.
//
// Our extensions, for features FreeBSD's syntax lacks (documented here and
// nowhere else):
//
//	-f esn     same as -esn (the name the router's docs used first)
//	-tfc n     pad tunnel-mode ESP payloads to n bytes (RFC 4303 §2.7)
//
// Deliberate differences from FreeBSD: host names are resolved only through
// Options.LookupHost (Parse and ParseFile accept address literals only, so a
// config never blocks on DNS); extensions and algorithms may come in any
// order; ports must be numeric; "spdadd tagged", -ctx labels and the
// obsolete algorithms (des-cbc, blowfish-cbc, cast128-cbc, des-deriv,
// keyed-md5, hmac-ripemd160, ...) are rejected with a clear error.
//
// Limits keep memory bounded on hostile input: 16 MiB per input, 64 KiB per
// statement, 8 KiB per token, 2^20 commands, 100 errors.
package setkey
