// Package config loads the router's YAML file into validated, immutable values.
//
//	cfg.yaml ──yaml.v3 Node tree──▶ decoder ──▶ *Config (defaults filled, paths resolved)
//	                                   │
//	                                   └──▶ errors.Join of *Error, one per line:
//	                                        "cfg.yaml:7: ports[2].driver: unknown driver "foo" (...)"
//
// Decoding is strict: unknown or duplicate keys and wrong types are errors, and
// every error names the file, the line and the key path. An explicit null
// (`key:` or `key: ~`) means the key is absent.
//
// Keys (defaults in parentheses):
//
//	cores: [0]                       poll-loop CPUs, unique, >= 0
//	pfkey: {socket (/run/ipsecd/pfkey.sock), dialect: auto|freebsd|linux (auto),
//	        mode ("0600"), allow_uids ([0]), allow_gids ([])}
//	admin: {socket (/run/ipsecd/admin.sock), mode ("0600"), allow_uids ([0]), allow_gids ([])}
//	enc: {rules: ["drop in proto tcp to any port 23", ...]}   enc0 filter rules, first match wins
//	ports: - {name, driver: ring|pcap|afpacket|tap|dpdk, addresses, mac, mtu (1500), queues (1), args,
//	          rx, tx, linktype: ethernet|raw (pcap) · interface (afpacket, tap) · mode: tap|tun (tap) · peer (ring)}
//	routes: - {dst, via, port}       no via = directly connected
//	neighbors: - {ip, mac, port}
//	hostpath: {port}                 an undeclared name creates an implicit TAP port
//	setkey: sa.conf                  relative to the config file's directory, as are pcap rx/tx
//	sysctl: {name: scalar, ...}      kept in file order as text
//	engine: {burst (32), idle: adaptive|poll (adaptive), pool_size (8192)}
//	log: {level: debug|info|warn|error (info), json (false)}
//
// The package keeps no global state and does no logging.
package config

import (
	"net/netip"
	"os"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/enc"
)

// Config is a validated configuration. It must not be modified after Load or
// Parse returns it: callers share its slices.
type Config struct {
	File       string // path it was loaded from ("" for Parse)
	Cores      []int  // poll-loop CPUs; default [0]
	PFKey      PFKey
	Admin      Admin
	Ports      []Port // declared ports in file order, then the implicit host-path port if any
	Routes     []Route
	Neighbors  []Neighbor
	HostPath   HostPath // zero Port name = no host path
	SetKey     string   // setkey(8)-syntax file, resolved against the config dir; "" if absent
	SetKeyLine int      // line of the setkey key, for the setkey parser's errors
	Sysctl     []Sysctl // in file order
	Enc        Enc
	Engine     Engine
	Log        Log
}

// PFKey configures the PF_KEY Unix socket.
type PFKey struct {
	Socket    string      // default /run/ipsecd/pfkey.sock
	Dialect   string      // auto | freebsd | linux; default auto
	Mode      os.FileMode // socket permissions; default 0600
	AllowUIDs []int       // default [0]; the daemon's own uid is always allowed
	AllowGIDs []int       // default none
}

// Admin configures the admin API Unix socket.
type Admin struct {
	Socket    string      // default /run/ipsecd/admin.sock
	Mode      os.FileMode // default 0600
	AllowUIDs []int       // default [0]; the daemon's own uid is always allowed
	AllowGIDs []int       // default none
}

// Enc configures the enc0 interface.
type Enc struct {
	Rules []enc.Rule // filter rules in order (enc.Rule's text form in the file)
	Line  int        // line where the enc section starts
}

// Port is one packet port.
type Port struct {
	Name      string       // 1-15 of [a-zA-Z0-9_.-], unique
	Driver    string       // ring | pcap | afpacket | tap | dpdk
	Line      int          // line of the port's entry (of hostpath.port if Implicit)
	Rx, Tx    string       // pcap: file paths resolved against the config dir; either may be empty
	LinkType  pkt.LinkType // pcap: linktype; tap: Ethernet for tap mode, RawIP for tun; others Ethernet
	Interface string       // afpacket (required), tap (default Name)
	Mode      string       // tap: "tap" (default) | "tun"
	Peer      string       // ring: peer ring port, filled in on both sides of a pair; empty = loopback
	Addresses []netip.Prefix
	MAC       [6]byte
	HasMAC    bool
	MTU       int      // default 1500, 68..9000, >= 1280 with an IPv6 address
	Queues    int      // default 1, 1..64
	Args      []string // dpdk: EAL args; ignored by other drivers
	Implicit  bool     // the host-path TAP port created from hostpath.port
}

// Route is one static route.
type Route struct {
	Dst  netip.Prefix // masked
	Via  netip.Addr   // invalid = directly connected
	Port string
	Line int
}

// Neighbor is one static neighbor (ARP/NDP) entry.
type Neighbor struct {
	IP   netip.Addr
	MAC  [6]byte
	Port string
	Line int
}

// HostPath names the port that carries packets for the router itself.
type HostPath struct {
	Port string
	Line int
}

// Sysctl is one control-plane knob; the control plane validates names.
type Sysctl struct {
	Name, Value string
	Line        int
}

// Engine tunes the poll loops.
type Engine struct {
	Burst    int    // packets per burst; default 32, 1..256
	Idle     string // "adaptive" (default) | "poll"
	PoolSize int    // buffers per pool; default 8192, >= Burst
}

// Log configures logging, which cmd/ builds.
type Log struct {
	Level string // debug | info | warn | error; default info
	JSON  bool
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.File = path
	return c, nil
}

// Parse validates data; name is used in errors and its directory resolves relative paths.
func Parse(name string, data []byte) (*Config, error) {
	d := newDecoder(name)
	root := d.parse(data)
	var c *Config
	if len(d.errs) == 0 {
		c = d.config(root)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Port returns the port named name, including an implicit host-path port.
func (c *Config) Port(name string) (Port, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// AllPcap reports whether every port, an implicit host-path port included, is a pcap port (offline mode).
func (c *Config) AllPcap() bool {
	for _, p := range c.Ports {
		if p.Driver != "pcap" {
			return false
		}
	}
	return len(c.Ports) > 0
}
