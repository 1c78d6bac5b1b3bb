package engine

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// Config is everything the engine needs; cmd/ builds it from the config
// file. Port indexes refer to Ports.
type Config struct {
	Ports []Port
	// Addresses[i] are the router's addresses on Ports[i] (with prefix
	// length; each adds a connected route).
	Addresses [][]netip.Prefix
	Routes    []Route
	Neighbors []Neighbor
	// HostPort is the index of the host-path port, or -1 for none.
	HostPort int
	// Cores are the CPUs to pin poll loops to, one loop each.
	Cores []int
	// Pin pins each poll loop's thread to its CPU (sched_setaffinity).
	Pin bool
	// Burst is the rx burst size (default pkt.BurstSize).
	Burst int
	// Idle chooses busy polling or adaptive back-off when idle.
	Idle IdleMode
	// Pool supplies buffers for packets the engine makes (ICMP errors,
	// ARP and NDP, fragments).
	Pool *pkt.Pool
	// Inbound stages run on every received IP packet before the local
	// delivery decision (IPsec decapsulation, inbound policy); Outbound
	// stages on every packet about to be routed out (policy, encryption).
	Inbound, Outbound []StageFactory
	// ICMPRate is the number of ICMP errors each core may send per
	// second (token bucket of ICMPRate/10 burst); 0 means 1000, <0 none.
	ICMPRate int
	// NeighborTimeout is how long a packet waits for ARP/NDP (ns); 0
	// means 3 s.
	NeighborTimeout int64
}

// Route is a static route: packets to Dst leave by Port, to the next hop
// Via (invalid Via: Dst is directly connected on Port).
type Route struct {
	Dst  netip.Prefix
	Via  netip.Addr
	Port int
}

// Neighbor is a static neighbour entry.
type Neighbor struct {
	IP   netip.Addr
	MAC  [6]byte
	Port int
}

// IdleMode says what a poll loop does when nothing arrives.
type IdleMode uint8

const (
	// IdleAdaptive spins briefly, then sleeps longer the longer it stays
	// idle (up to half a millisecond), so an idle router costs little CPU.
	IdleAdaptive IdleMode = iota
	// IdlePoll spins all the time: lowest latency, one CPU per core busy.
	IdlePoll
)

func (c *Config) validate() error {
	var errs []error
	if len(c.Ports) == 0 {
		errs = append(errs, errors.New("engine: no ports"))
	}
	if len(c.Ports) > 65535 {
		errs = append(errs, errors.New("engine: too many ports"))
	}
	if len(c.Addresses) > len(c.Ports) {
		errs = append(errs, errors.New("engine: more address lists than ports"))
	}
	if c.HostPort >= len(c.Ports) || c.HostPort < -1 {
		errs = append(errs, fmt.Errorf("engine: host port %d out of range", c.HostPort))
	}
	for i, r := range c.Routes {
		if r.Port < 0 || r.Port >= len(c.Ports) {
			errs = append(errs, fmt.Errorf("engine: route %d (%s): port %d out of range", i, r.Dst, r.Port))
		}
		if r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
			errs = append(errs, fmt.Errorf("engine: route %d (%s): next hop %s of another family", i, r.Dst, r.Via))
		}
	}
	for i, n := range c.Neighbors {
		if n.Port < 0 || n.Port >= len(c.Ports) {
			errs = append(errs, fmt.Errorf("engine: neighbor %d (%s): port %d out of range", i, n.IP, n.Port))
		}
	}
	if c.Pool == nil {
		errs = append(errs, errors.New("engine: no buffer pool"))
	}
	return errors.Join(errs...)
}
