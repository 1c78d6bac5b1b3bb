//go:build !linux

package tap

import (
	"time"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// Port is a TUN/TAP port; on this platform it cannot be opened.
type Port struct{}

// Open fails: this driver supports Linux only.
func Open(cfg Config, pool *pkt.Pool) (*Port, error) { return nil, ErrUnsupported }

// Name is the configured port name.
func (p *Port) Name() string { return "" }

// Interface is the kernel interface name.
func (p *Port) Interface() string { return "" }

// LinkType is Ethernet for tap, raw IP for tun.
func (p *Port) LinkType() pkt.LinkType { return pkt.LinkEthernet }

// MAC is the port's Ethernet address.
func (p *Port) MAC() [6]byte { return [6]byte{} }

// HostMAC is the kernel interface's Ethernet address.
func (p *Port) HostMAC() [6]byte { return [6]byte{} }

// MTU is the largest IP packet the port sends.
func (p *Port) MTU() int { return 0 }

// RxQueues is the number of rx queues.
func (p *Port) RxQueues() int { return 0 }

// TxQueues is the number of tx queues.
func (p *Port) TxQueues() int { return 0 }

// RxBurst receives nothing.
func (p *Port) RxBurst(q int, bufs []*pkt.Buf) int { return 0 }

// TxBurst sends nothing.
func (p *Port) TxBurst(q int, bufs []*pkt.Buf) int { return 0 }

// Wait reports that nothing is ready.
func (p *Port) Wait(timeout time.Duration) bool { return false }

// Stats returns zero counters.
func (p *Port) Stats() stats.PortSnapshot { return stats.PortSnapshot{} }

// Close does nothing.
func (p *Port) Close() error { return nil }
