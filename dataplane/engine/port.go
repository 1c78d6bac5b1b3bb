package engine

import (
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port is a network port as the engine sees it: queues that move bursts.
// Drivers live in ports/...; they satisfy this interface without
// importing the engine.
//
// Each rx queue is polled by exactly one core. Every core has its own tx
// queue index (core i uses queue i % TxQueues()); a driver with fewer tx
// queues than cores must make TxBurst safe for concurrent callers.
type Port interface {
	// Name is the configured port name.
	Name() string
	// LinkType says whether frames carry an Ethernet header.
	LinkType() pkt.LinkType
	// MAC is the port's Ethernet address (zero for raw-IP ports).
	MAC() [6]byte
	// MTU is the largest IP packet the port sends, without L2 header.
	MTU() int
	// RxQueues and TxQueues are the numbers of queues (at least 1).
	RxQueues() int
	TxQueues() int
	// RxBurst fills bufs with up to len(bufs) received frames from queue q
	// and returns how many; it never blocks. The caller owns them.
	RxBurst(q int, bufs []*pkt.Buf) int
	// TxBurst sends frames from bufs and returns how many it accepted;
	// the port owns and frees bufs[:n], the caller keeps the rest.
	TxBurst(q int, bufs []*pkt.Buf) int
	// Stats returns the port's counters.
	Stats() stats.PortSnapshot
	// Close releases the port's resources.
	Close() error
}

// Finite is implemented by ports whose input ends (pcap files): RxDone
// reports that every rx queue has delivered its last frame.
type Finite interface {
	RxDone() bool
}

// Flusher is implemented by ports that buffer output (pcap files).
type Flusher interface {
	Flush() error
}
