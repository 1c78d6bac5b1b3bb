// Package admin is the daemon's admin API: a Unix socket (mode 0600 by
// default, peers checked by their kernel credentials) speaking framed
// JSON, and the client ipsecctl uses.
//
//	ipsecctl ─► Client ─► unix socket ─► Server: SO_PEERCRED uid/gid allowed? (no: logged, closed)
//	              request frame (JSON)  ─►  sysctl get/set/list ─► ctrl.Manager (knobs, all or nothing)
//	                                        stats             ─► engine, port and ESP counters
//	                                        enc rules/set     ─► enc.Interface (compiled, published)
//	              response frame (JSON) ◄─  capture           ─► enc.Capture rings ─► packet frames … summary
//
// A frame is a 4-byte big-endian length, a kind byte ('J' JSON, 'P'
// captured packet) and the payload. A connection carries any number of
// request/response pairs; a capture streams packet frames and ends with
// a JSON summary, after which the server closes the connection. The
// client stops a capture early by closing its end.
package admin
