// Package keysock is the transport of the PF_KEY server: a Unix
// SOCK_SEQPACKET socket carrying one PF_KEY message per datagram, exactly
// as a PF_KEY socket does (FreeBSD keysock.c's job; the message semantics,
// key.c's, live elsewhere and reach this package as a Handler).
//
//	client ──connect──► listener (file mode 0600, created under a temporary
//	                    name and renamed into place: never reachable wider)
//	                      │ SO_PEERCRED: uid or gid not allowed ─► logged, closed
//	                      ▼
//	Conn: reader goroutine ── datagrams already queued (recvmmsg, up to 32)
//	        ─► Handler.Messages(c, msgs)   (wiped after the call: they may carry keys)
//	      queue (bounded) ◄── Send (blocks: replies, dumps = flow control)
//	                      ◄── TrySend (never blocks: broadcasts; full = dropped, counted)
//	        │ writer goroutine
//	        ▼ what is queued, one datagram per message (sendmmsg, up to 32)
//	      client
//
// A reply is queued by the requester's own reader goroutine, so a client
// that does not read stalls only itself: a dump of a million entries
// streams at the pace the client reads, while other clients are served by
// their own goroutines. Broadcasts to a client whose queue is full are
// dropped and counted, as a kernel drops them when a PF_KEY socket's
// receive buffer is full.
package keysock
