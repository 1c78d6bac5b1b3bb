// Package pfkey is the PF_KEY v2 wire codec (RFC 2367 with the KAME/FreeBSD
// and Linux extensions): bytes in, typed Go values out, and back. It knows
// nothing of sockets or of the SAD; ctrl/keysock moves the bytes and ctrl
// acts on the messages.
//
// Work in progress: see the API summary in msg.go.
package pfkey
