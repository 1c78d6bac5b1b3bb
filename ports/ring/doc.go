// Package ring implements in-memory ports for tests, demos and benchmarks.
//
// NewPair wires two ports back to back; New makes a loopback port whose tx
// feeds its own rx. Bufs move by pointer, never copied:
//
//	A.TxBurst(q) ──► B.rx[q % B.RxQueues()] ──► B.RxBurst
//	B.TxBurst(q) ──► A.rx[q % A.RxQueues()] ──► A.RxBurst
//
// Each rx queue is a bounded lock-free ring (queue.go) in the style of
// DPDK's rte_ring: producers reserve a run of slots with one CAS per burst,
// so several tx queues (or several cores sharing one tx queue) may feed it;
// a single consumer drains it. A full ring accepts what fits and TxBurst
// returns that count; the caller keeps and frees the rest.
//
// On receive the Buf's metadata is reset, as a wire would do, except
// Meta.RxTime, which is kept so offline runs stay repeatable.
package ring
