// Package afpacket is a Linux port driver on AF_PACKET sockets with
// TPACKET_V3 memory-mapped rings.
//
// Each queue is one packet socket bound to the interface with ETH_P_ALL
// that carries both rings in one mapping; with Queues > 1 the sockets form
// a PACKET_FANOUT_HASH group, so the kernel spreads flows over the queues.
//
//	wire -> kernel -> rx ring (blocks of frames) --RxBurst copies--> pkt.Buf
//	pkt.Buf --TxBurst copies--> tx ring (fixed slots) --sendto kick--> kernel -> wire
//
// RxBurst never blocks: it walks the frames of blocks the kernel has
// retired (after RetireTimeout at the latest), copies each into a Buf from
// the queue's pkt.Cache and hands a block back as soon as it is consumed.
// Wait poll(2)s a queue for an engine that backs off when idle. TxBurst
// fills free slots, then kicks the kernel once per burst with a
// non-blocking sendto; a full ring accepts fewer packets (TxFull).
//
// Frames the host itself sends on the interface are not received
// (PACKET_IGNORE_OUTGOING), nor are the port's own transmissions. A VLAN
// tag the kernel stripped into metadata is put back, so frames are as on
// the wire.
//
// AF_PACKET taps the interface; it does not take frames from the kernel.
// The host stack still sees every frame, so the interface should carry no
// addresses (and no IPv6), and GRO/LRO should be off so that frames are
// no larger than MTU (larger ones are dropped and counted RxTruncated).
//
// Namespaces: every kernel object is created inside Open, in the network
// namespace of the calling OS thread. To open a port on an interface in
// another namespace, call Open from a goroutine that has done
// runtime.LockOSThread and unix.Setns(nsfd, unix.CLONE_NEWNET); the
// returned Port may then be used from any goroutine.
package afpacket

import (
	"errors"
	"time"
)

// Config configures a port. The zero value of every field but Interface
// selects a default.
type Config struct {
	Name      string // port name (default Interface)
	Interface string // Linux interface name
	// MTU is the largest IP packet sent, without L2 header; 0 reads the
	// interface's MTU. It may not exceed the interface's MTU.
	MTU int
	// Queues is the number of rx/tx queue pairs (default 1); more than one
	// uses PACKET_FANOUT_HASH with one socket per queue.
	Queues int
	// BlockSize is the size of an rx ring block, a multiple of the page
	// size (default 1 MiB); NumBlocks the blocks per queue (default 8).
	BlockSize, NumBlocks int
	// FrameSize is the size of a tx ring slot, a multiple of 16 (default
	// the smallest power of two holding header, MTU, Ethernet and VLAN
	// headers, at least 2048); TxFrames the slots per queue (default 512).
	FrameSize, TxFrames int
	// RetireTimeout bounds how long a partly filled rx block waits before
	// the kernel hands it over (default and minimum 1 ms).
	RetireTimeout time.Duration
	// NoPromisc leaves the interface non-promiscuous. By default the port
	// sets PACKET_MR_PROMISC: a router must see frames for its own MAC
	// even when that is not the interface's hardware address.
	NoPromisc bool
	// QdiscBypass sends past the interface's qdisc (PACKET_QDISC_BYPASS).
	QdiscBypass bool
	// MAC is the port's Ethernet address; zero uses the interface's.
	MAC [6]byte
}

const (
	defaultBlockSize = 1 << 20
	defaultNumBlocks = 8
	defaultTxFrames  = 512
	minFrameSize     = 2048
	ethHdrLen        = 14
	vlanHdrLen       = 4
	tpHdrLen         = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
)

// ErrUnsupported is returned by Open on platforms without AF_PACKET.
var ErrUnsupported = errors.New("afpacket: AF_PACKET needs Linux")

// withDefaults fills zero fields; mtu is the resolved MTU.
func (c Config) withDefaults(mtu int) Config {
	if c.Name == "" {
		c.Name = c.Interface
	}
	if c.Queues <= 0 {
		c.Queues = 1
	}
	if c.BlockSize <= 0 {
		c.BlockSize = defaultBlockSize
	}
	if c.NumBlocks <= 0 {
		c.NumBlocks = defaultNumBlocks
	}
	if c.FrameSize <= 0 {
		c.FrameSize = minFrameSize
		for c.FrameSize < tpHdrLen+mtu+ethHdrLen+vlanHdrLen {
			c.FrameSize *= 2
		}
	}
	if c.TxFrames <= 0 {
		c.TxFrames = defaultTxFrames
	}
	if c.RetireTimeout < time.Millisecond {
		c.RetireTimeout = time.Millisecond
	}
	return c
}
