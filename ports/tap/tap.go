// Package tap is a TUN/TAP port: the router's host path. Packets addressed
// to the router itself are sent into it, so host programs (an IKE daemon)
// see them on a kernel interface; what the host sends out of that
// interface is received by the router and routed on.
//
//	router --TxBurst: write(2) per packet--> /dev/net/tun --> kernel ifname --> host sockets
//	router <--RxBurst: read(2) until EAGAIN-- /dev/net/tun <-- kernel ifname <-- host sockets
//
// Mode "tap" carries Ethernet frames (the port has its own MAC, the kernel
// interface another: HostMAC), mode "tun" raw IP packets. The descriptor is
// non-blocking: RxBurst never blocks, Wait poll(2)s it. TUN has no batched
// write, so TxBurst costs one system call per packet; that is acceptable
// for host-path traffic.
//
// Open creates the interface (IFF_NO_PI) in the network namespace of the
// calling OS thread, sets its MTU, optionally adds addresses (rtnetlink
// RTM_NEWADDR) and brings it up. To create it in another namespace, call
// Open from a goroutine that has done runtime.LockOSThread and
// unix.Setns(nsfd, unix.CLONE_NEWNET); the Port may then be used from any
// goroutine. Closing the port deletes the interface.
package tap

import (
	"errors"
	"hash/fnv"
	"net/netip"
)

// Config configures a port.
type Config struct {
	Name      string // port name
	Interface string // kernel interface name (default Name), at most 15 bytes
	Mode      string // "tap" (Ethernet, the default) or "tun" (raw IP)
	MTU       int    // default 1500
	// MAC is the port's own (router-side) address in tap mode; zero
	// derives a stable locally administered one from Name.
	MAC [6]byte
	// Addresses are configured on the kernel interface.
	Addresses []netip.Prefix
	// Up brings the kernel interface up.
	Up bool
}

// Modes.
const (
	ModeTAP = "tap"
	ModeTUN = "tun"
)

// ErrUnsupported is returned by Open on platforms other than Linux.
var ErrUnsupported = errors.New("tap: TUN/TAP ports need Linux")

func (c Config) withDefaults() (Config, error) {
	if c.Interface == "" {
		c.Interface = c.Name
	}
	if c.Name == "" {
		c.Name = c.Interface
	}
	if c.Mode == "" {
		c.Mode = ModeTAP
	}
	if c.MTU == 0 {
		c.MTU = 1500
	}
	switch {
	case c.Interface == "":
		return c, errors.New("tap: no name")
	case len(c.Interface) > 15:
		return c, errors.New("tap: interface name " + c.Interface + " longer than 15 bytes")
	case c.Mode != ModeTAP && c.Mode != ModeTUN:
		return c, errors.New("tap: mode " + c.Mode + " is neither tap nor tun")
	case c.MTU < 68 || c.MTU > 65535:
		return c, errors.New("tap: MTU out of range")
	}
	for _, a := range c.Addresses {
		if !a.IsValid() {
			return c, errors.New("tap: invalid address prefix")
		}
	}
	if c.Mode == ModeTAP && c.MAC == ([6]byte{}) {
		c.MAC = DeriveMAC(c.Name)
	}
	return c, nil
}

// DeriveMAC returns a stable locally administered unicast MAC for name.
func DeriveMAC(name string) [6]byte {
	h := fnv.New64a()
	h.Write([]byte("fastipsec/tap/" + name))
	s := h.Sum64()
	var m [6]byte
	for i := range m {
		m[i] = byte(s >> (8 * i))
	}
	m[0] = m[0]&^0x01 | 0x02
	return m
}
