// Package pfkeyfmt prints decoded PF_KEY messages the way FreeBSD's
// setkey(8) does (libipsec's pfkey_sadump, pfkey_spdump and
// ipsec_dump_policy, and key_debug's kdebug_sadb header), byte for byte, so
// scripts that parse `setkey -D` and `setkey -DP` output keep working.
//
//	*pfkey.Msg (SADB_DUMP / SADB_GET reply) ──Printer.SA──────► "src dst\n\tesp mode=... spi=...\n..."
//	*pfkey.Msg (SADB_X_SPDDUMP reply)       ──Printer.Policy──► "src[any] dst[any] any\n\tout ipsec\n..."
//	pfkey.Header                            ──Header──────────► "sadb_msg{ version=2 type=3 ...\n"
//
// Deliberate differences from FreeBSD, none of which changes a line a
// FreeBSD script can see: algorithm numbers FreeBSD's table lacks are named
// from ipsec/alg's registry (aes-gcm-12, chacha20-poly1305, ...) instead of
// printed as numbers; a policy direction of fwd (Linux) prints "fwd"; a
// policy priority other than the default prints as ipsec-tools does
// ("out prio def + 10 ipsec"), since FreeBSD has none to print.
//
// Messages decoded in the Linux dialect print with FreeBSD's meaning too:
// the replay window in octets (Linux counts packets) and scope=global
// (Linux has no scope field).
//
// Times print in the Printer's location like ctime(3); the clock is
// injectable so output can be compared in tests.
package pfkeyfmt
