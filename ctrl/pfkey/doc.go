// Package pfkey is the PF_KEY v2 wire codec: RFC 2367 with the KAME/FreeBSD
// extensions (net/pfkeyv2.h) and the Linux ones (linux/pfkeyv2.h). Bytes
// in, typed Go values out, and back; it knows nothing of sockets, SAs or
// policies. ctrl/keysock moves the bytes, ctrl acts on the messages,
// cmd/setkey and the LD_PRELOAD shim's clients speak it.
//
// The flow in a server:
//
//	client bytes ──> DetectDialect (first message with a sockaddr; until then DefaultDialect)
//	             ──> Decode(d, b) ──err──> h, _ := ParseHeader(b); Encode(d, ErrorReply(h, ErrnoOf(err)))
//	                   │ *Msg
//	                   ▼
//	             CheckRequest(d, m) ──err──> ErrorReply(m.Header, ErrnoOf(err))
//	                   │
//	                   ▼  the server acts; ENOENT, EEXIST ... via Errorf
//	             reply *Msg ──> Encode(d, reply) ──> client
//
// # Messages
//
// A Msg is the base header (Header: version, type, errno, satype, len,
// reserved, seq, pid) and one pointer field per extension, nil when absent:
// SA, LifetimeCurrent/Hard/Soft, Src/Dst/Proxy, AuthKey/EncKey,
// SrcIdentity/DstIdentity, Sensitivity, Proposal (with Combs),
// SupportedAuth/SupportedEncrypt (with Algs), SPIRange, KMPrivate, Policy
// (with Requests), SA2, NATTType, NATTSport/NATTDport, NATTOAI (also
// Linux's single NAT_T_OA), NATTOAR, NATTFrag, SAReplay, NewSrc/NewDst,
// SecCtx, KMAddress, Filter. Unknown keeps extensions Linux skips; Order
// keeps the wire order so that Encode(Decode(b)) == b.
//
// Fields hold wire values as numbers: SPIs and ports are converted from
// network order (SA.SPI 0xc0ffee01 is bytes c0 ff ee 01), everything else
// is host order as the kernels define it. Addresses are netip.AddrPort
// (port 0 = any) with PrefixLen and Proto (ProtoAny = 255). Algorithm,
// mode, level, direction and policy-type fields keep the PF_KEY numbers
// (the EAlg*, AAlg*, Mode*, Level*, Dir*, Policy* constants); map
// algorithms with EncAlgFromWire/EncAlgToWire, AuthAlgFromWire/
// AuthAlgToWire and CompAlgFromWire/CompAlgToWire.
//
// # Dialects
//
//	                        FreeBSD (net/pfkeyv2.h)       Linux (linux/pfkeyv2.h)
//	sockaddr                sa_len, 8-bit family           16-bit family, no sa_len
//	AF_INET6                28                             10
//	sadb_x_ipsecrequest     8 bytes, 16-bit reqid          16 bytes, 32-bit reqid
//	sadb_sa_replay          BYTES of bitmap (+SA_REPLAY)   packets
//	extensions 23..         NAT_T_OAI 23, NAT_T_OAR 24,    NAT_T_OA 23, SEC_CTX 24,
//	                        NAT_T_FRAG 25, SA_REPLAY 26,   KMADDRESS 25, FILTER 26
//	                        NEW_ADDRESS_SRC/DST 27/28
//	message types           1..22                          1..24 (NAT_T_NEW_MAPPING, MIGRATE)
//	unknown extension type  EINVAL                         kept in Msg.Unknown
//	KMPRIVATE               EINVAL                         decoded
//	length errors           EINVAL                         EMSGSIZE
//	SA flags                SAFlagOld..SAFlagESN           SAFlagNoPMTUDisc, DecapDSCP, NoECN
//
// Msg.ReplayWindow and Msg.SetReplayWindow convert the replay window to
// and from packets for either dialect.
//
// # Validation and errors
//
// Decode is strict in the way of key.c's key_align/key_validate_ext and
// af_key's parse_exthdrs, with min/max length tables per extension:
// a message is accepted whole or rejected with an *Error that carries the
// errno the dialect's kernel would put in sadb_msg_errno (errors.Is works
// with syscall.Errno). Sockaddrs must have exactly the size of their
// family (a FreeBSD sa_len of 255 is EINVAL, not an overflow), prefixes
// fit their address, key bits fit their extension, and every
// ipsecrequest's byte length covers its header and nothing or exactly a
// pair of sockaddrs of one family. CheckRequest adds the checks a kernel
// makes before acting (handler exists, SA type, required extensions,
// policy sanity). Decode never panics; it is fuzzed (FuzzDecode) for
// that and for Encode(Decode(b)) decoding to the same value.
//
// Keys are copied out of the message; call Msg.WipeKeys (or Key.Wipe) when
// they have been installed, and never log a Key. DecodeIn decodes into an
// Arena instead of the heap (no allocation for an SADB_ADD); Arena.Reset
// wipes the keys of everything decoded into it and recycles the memory.
//
// Byte order: host-order fields use the machine's native order, as the
// kernels do; the golden tests are written for little-endian hosts.
package pfkey
