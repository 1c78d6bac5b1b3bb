package engine

import (
	"net/netip"

	"github.com/fastipsec/fastipsec/dataplane/lpm"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// tables is the router's immutable forwarding state: interfaces, local
// addresses and routes. A new one is built on every change and published
// atomically; cores load it once per burst.
type tables struct {
	ifaces  []iface
	local   map[netip.Addr]int // router address -> port index
	routes  *lpm.Table         // value: index into nexthops
	nexthop []nexthop
}

// iface is one port as the router sees it.
type iface struct {
	port      Port
	mac       [6]byte
	mtu       int
	eth       bool           // frames carry Ethernet headers
	addrs     []netip.Prefix // configured addresses
	v4        [4]byte        // first IPv4 address (source of ICMP errors)
	hasV4     bool
	v6        [16]byte // first global IPv6 address
	hasV6     bool
	linkLocal [16]byte // fe80::/64 EUI-64 address from the MAC
	host      bool     // the host-path port: proxy ARP/NDP for everything
}

// nexthop is a route's target.
type nexthop struct {
	port int
	via  netip.Addr // invalid: the destination itself is the neighbour
}

func buildTables(cfg *Config) *tables {
	t := &tables{local: make(map[netip.Addr]int)}
	b := lpm.NewBuilder()
	for i, p := range cfg.Ports {
		in := iface{port: p, mac: p.MAC(), mtu: p.MTU(), eth: p.LinkType() == pkt.LinkEthernet, host: i == cfg.HostPort}
		if in.mtu <= 0 {
			in.mtu = 1500
		}
		in.linkLocal = linkLocalFromMAC(in.mac)
		if i < len(cfg.Addresses) {
			in.addrs = cfg.Addresses[i]
		}
		for _, a := range in.addrs {
			ip := a.Addr()
			t.local[ip] = i
			if ip.Is4() && !in.hasV4 {
				in.v4, in.hasV4 = ip.As4(), true
			}
			if ip.Is6() && !in.hasV6 && !ip.IsLinkLocalUnicast() {
				in.v6, in.hasV6 = ip.As16(), true
			}
			// Connected route; configured routes below may override it.
			b.Insert(a.Masked(), uint32(len(t.nexthop)))
			t.nexthop = append(t.nexthop, nexthop{port: i})
		}
		if in.eth {
			t.local[netip.AddrFrom16(in.linkLocal)] = i
		}
		t.ifaces = append(t.ifaces, in)
	}
	for _, r := range cfg.Routes {
		b.Insert(r.Dst.Masked(), uint32(len(t.nexthop)))
		t.nexthop = append(t.nexthop, nexthop{port: r.Port, via: r.Via})
	}
	t.routes = b.Build()
	return t
}

// linkLocalFromMAC returns fe80::/64 with a modified EUI-64 interface id.
func linkLocalFromMAC(m [6]byte) (a [16]byte) {
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10] = m[0]^0x02, m[1], m[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = m[3], m[4], m[5]
	return a
}

// isLocal4 reports whether a is one of the router's IPv4 addresses.
func (t *tables) isLocal4(a [4]byte) bool {
	_, ok := t.local[netip.AddrFrom4(a)]
	return ok
}

// isLocal6 reports whether a is one of the router's IPv6 addresses.
func (t *tables) isLocal6(a *[16]byte) bool {
	_, ok := t.local[netip.AddrFrom16(*a)]
	return ok
}

// lookup4 returns the next hop for dst.
func (t *tables) lookup4(dst [4]byte) (*nexthop, bool) {
	v, ok := t.routes.Lookup4(dst)
	if !ok {
		return nil, false
	}
	return &t.nexthop[v], true
}

// lookup6 returns the next hop for dst.
func (t *tables) lookup6(dst *[16]byte) (*nexthop, bool) {
	v, ok := t.routes.Lookup6(dst)
	if !ok {
		return nil, false
	}
	return &t.nexthop[v], true
}
