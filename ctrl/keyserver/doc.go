// Package keyserver gives PF_KEY messages their meaning, as FreeBSD's
// key.c does: it decodes each message a keysock client sends, applies it
// to the Manager's SAD and SPD, and answers the requester or broadcasts
// per RFC 2367 §3.1.
//
//	keysock.Conn ─► Message ─► pfkey.Decode (dialect per client, auto-detected
//	      ▲                    from the first sockaddr) ─► CheckRequest
//	      │                        │ error: errno reply to the requester only
//	      │                        ▼
//	      │          dispatch by type ─► sad.Store / spd.Store (atomic publish)
//	      │                        │
//	      └── reply: ONE (GETSPI, GET, DUMP, SPDGET, SPDDUMP, errors)
//	                 ALL (ADD, UPDATE, DELETE, FLUSH, SPDADD..., without keys)
//	                 REGISTERED (REGISTER's SUPPORTED lists, ACQUIRE, EXPIRE, SPDEXPIRE)
//	          and a X_PROMISC-wrapped copy of everything to promiscuous clients
//
//	Manager: OnExpire ─► SADB_EXPIRE   OnAcquire ─► SADB_ACQUIRE
//	         OnPolicyExpire ─► SADB_X_SPDEXPIRE
//
// The requester's reply is queued with flow control (it waits for the
// client to read), everyone else's copy never waits (a full queue drops
// it, as a full PF_KEY socket buffer does). DUMP and SPDDUMP take a
// snapshot of the entries and send one message each, seq counting down
// to 0, at the pace the client reads; they never fail for lack of space.
//
// Consecutive SADB_ADDs a client has already sent are applied under one
// hold of the SAD's writer lock (sad.Store.Apply), so a keying daemon
// installing SAs at full speed costs the dataplane nothing more than the
// individual atomic publishes. They are decoded into the client's
// pfkey.Arena (reset, keys wiped, after the run is answered), so an ADD
// allocates only what the installed SA keeps and its reply.
//
// Key material is never logged; decoded keys and outgoing messages that
// carry keys are wiped once used.
package keyserver
