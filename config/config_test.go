package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

func TestMinimal(t *testing.T) {
	c, err := Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "testdata/minimal.yaml" || !slices.Equal(c.Cores, []int{0}) {
		t.Errorf("File %q Cores %v", c.File, c.Cores)
	}
	if k := c.PFKey; k.Socket != "/run/ipsecd/pfkey.sock" || k.Dialect != "auto" || k.Mode != 0o600 ||
		!slices.Equal(k.AllowUIDs, []int{0}) || len(k.AllowGIDs) != 0 {
		t.Errorf("PFKey %+v", c.PFKey)
	}
	if !reflect.DeepEqual(c.Admin, Admin{Socket: "/run/ipsecd/admin.sock", Mode: 0o600, AllowUIDs: []int{0}}) {
		t.Errorf("Admin %+v", c.Admin)
	}
	if len(c.Ports) != 4 {
		t.Fatalf("%d ports, want 4 (3 declared + implicit host0)", len(c.Ports))
	}
	pfx := netip.MustParsePrefix
	lan, wan, up, host := c.Ports[0], c.Ports[1], c.Ports[2], c.Ports[3]
	if lan.Name != "lan" || lan.Driver != "pcap" || lan.Line != 4 || lan.LinkType != pkt.LinkRawIP ||
		lan.Rx != filepath.Join("testdata", "in.pcap") || lan.Tx != filepath.Join("testdata", "lan-out.pcap") ||
		!slices.Equal(lan.Addresses, []netip.Prefix{pfx("192.0.2.1/24")}) || lan.MTU != 1500 || lan.Queues != 1 {
		t.Errorf("lan %+v", lan)
	}
	if wan.Rx != "" || wan.Tx != filepath.Join("testdata", "wan-out.pcap") || wan.LinkType != pkt.LinkRawIP ||
		!slices.Equal(wan.Addresses, []netip.Prefix{pfx("198.51.100.1/24")}) {
		t.Errorf("wan %+v", wan)
	}
	if up.Driver != "afpacket" || up.Interface != "veth0" || up.LinkType != pkt.LinkEthernet ||
		!slices.Equal(up.Addresses, []netip.Prefix{pfx("203.0.113.1/24"), pfx("2001:db8::1/64")}) {
		t.Errorf("up %+v", up)
	}
	want := Port{Name: "host0", Driver: "tap", Line: 12, Interface: "host0", Mode: "tap", LinkType: pkt.LinkEthernet,
		MTU: 1500, Queues: 1, Implicit: true}
	if !reflect.DeepEqual(host, want) {
		t.Errorf("host0 %+v, want %+v", host, want)
	}
	if p, ok := c.Port("host0"); !ok || !p.Implicit {
		t.Errorf("Port(host0) = %+v, %v", p, ok)
	}
	if _, ok := c.Port("nope"); ok {
		t.Error("Port(nope) found")
	}
	if c.HostPath != (HostPath{Port: "host0", Line: 12}) {
		t.Errorf("HostPath %+v", c.HostPath)
	}
	routes := []Route{
		{Dst: pfx("0.0.0.0/0"), Via: netip.MustParseAddr("198.51.100.2"), Port: "wan", Line: 8},
		{Dst: pfx("::/0"), Via: netip.MustParseAddr("2001:db8::2"), Port: "up", Line: 9},
	}
	if !slices.Equal(c.Routes, routes) {
		t.Errorf("Routes %+v", c.Routes)
	}
	nb := Neighbor{IP: netip.MustParseAddr("198.51.100.2"), MAC: [6]byte{2, 0, 0, 0, 0, 2}, Port: "wan", Line: 11}
	if !slices.Equal(c.Neighbors, []Neighbor{nb}) {
		t.Errorf("Neighbors %+v", c.Neighbors)
	}
	if c.SetKey != filepath.Join("testdata", "sa.conf") || c.SetKeyLine != 13 {
		t.Errorf("SetKey %q line %d", c.SetKey, c.SetKeyLine)
	}
	if !slices.Equal(c.Sysctl, []Sysctl{{Name: "net.inet.ipsec.def_policy", Value: "1", Line: 14}}) {
		t.Errorf("Sysctl %+v", c.Sysctl)
	}
	if c.Engine != (Engine{Burst: 32, Idle: "adaptive", PoolSize: 8192}) || c.Log != (Log{Level: "info"}) {
		t.Errorf("Engine %+v Log %+v", c.Engine, c.Log)
	}
	if c.AllPcap() {
		t.Error("AllPcap true with afpacket and implicit tap ports")
	}
}

func TestParsePaths(t *testing.T) {
	data, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("/etc/ipsecd/ipsecd.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "" || c.Ports[0].Rx != "/etc/ipsecd/in.pcap" || c.SetKey != "/etc/ipsecd/sa.conf" {
		t.Errorf("File %q Rx %q SetKey %q", c.File, c.Ports[0].Rx, c.SetKey)
	}
	if c, err = Parse("", data); err != nil || c.Ports[0].Rx != "in.pcap" {
		t.Errorf("Parse(\"\"): Rx %q, %v", c.Ports[0].Rx, err)
	}
}

func TestOffline(t *testing.T) {
	c, err := Load("testdata/offline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllPcap() || len(c.Ports) != 3 || c.HostPath.Port != "host" || c.Ports[2].Implicit {
		t.Errorf("AllPcap %v, ports %+v, hostpath %+v", c.AllPcap(), c.Ports, c.HostPath)
	}
	if c.Ports[1].Rx != "/abs/wan-in.pcap" || c.Ports[0].LinkType != pkt.LinkEthernet {
		t.Errorf("wan Rx %q, lan linktype %v", c.Ports[1].Rx, c.Ports[0].LinkType)
	}
}

func TestFull(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Cores, []int{2, 3}) || c.PFKey.Socket != "/tmp/pfkey.sock" || c.PFKey.Dialect != "linux" ||
		c.PFKey.Mode != 0o660 || !slices.Equal(c.PFKey.AllowUIDs, []int{0, 1000}) || !slices.Equal(c.PFKey.AllowGIDs, []int{10}) {
		t.Errorf("cores %v pfkey %+v", c.Cores, c.PFKey)
	}
	if !reflect.DeepEqual(c.Admin, Admin{Socket: "/tmp/admin.sock", Mode: 0o640, AllowUIDs: []int{0}}) {
		t.Errorf("admin %+v", c.Admin)
	}
	a, _ := c.Port("a")
	b, _ := c.Port("b")
	lo, _ := c.Port("lo")
	tun, _ := c.Port("t")
	d, _ := c.Port("d")
	if a.Peer != "b" || b.Peer != "a" || lo.Peer != "" {
		t.Errorf("peers a=%q b=%q lo=%q", a.Peer, b.Peer, lo.Peer)
	}
	if !a.HasMAC || a.MAC != [6]byte{2, 0, 0, 0, 0, 0x0a} || a.MTU != 9000 || a.Queues != 4 || a.Line != 11 {
		t.Errorf("a %+v", a)
	}
	if tun.Mode != "tun" || tun.LinkType != pkt.LinkRawIP || tun.Interface != "tun7" || c.HostPath.Port != "t" {
		t.Errorf("t %+v", tun)
	}
	if !slices.Equal(d.Args, []string{"-l", "0-1", "--vdev=net_null0"}) {
		t.Errorf("d.Args %q", d.Args)
	}
	if r := c.Routes; len(r) != 2 || r[0].Via.IsValid() || r[1].Dst != netip.MustParsePrefix("10.2.0.0/16") {
		t.Errorf("routes %+v", r)
	}
	want := []Sysctl{{"net.inet.ipsec.def_policy", "1", 30}, {"net.inet.ipsec.esp_trans_deflev", "2", 31}, {"net.key.debug", "off", 32}}
	if !slices.Equal(c.Sysctl, want) {
		t.Errorf("sysctl %+v", c.Sysctl)
	}
	if c.Engine != (Engine{Burst: 64, Idle: "poll", PoolSize: 4096}) || c.Log != (Log{Level: "debug", JSON: true}) {
		t.Errorf("engine %+v log %+v", c.Engine, c.Log)
	}
}

// lan is a valid ports section on lines 1-2.
const lan = "ports:\n  - {name: lan, driver: pcap, tx: out.pcap}\n"

// ring is a ports section of ring ports on lines 1-4.
const ring = "ports:\n  - {name: a, driver: ring, peer: b}\n  - {name: b, driver: ring}\n  - {name: c, driver: ring}\n"

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string // want: the error's exact first line, or its prefix when it ends in "..."
	}{
		{"syntax", "ports: [\n", "f.yaml:1: did not find expected node content"},
		{"tab", "cores: [0]\n\tports: 1\n", "f.yaml:2: found character that cannot start any token"},
		{"documents", lan + "---\ncores: [0]\n", "f.yaml:3: more than one YAML document"},
		{"root", "- a\n", "f.yaml:1: want a mapping, got a sequence"},
		{"empty", "", "f.yaml:1: ports: at least one port is required"},
		{"unknown top", lan + "bogus: 1\n", "f.yaml:3: bogus: unknown key (want cores, pfkey, ..."},
		{"duplicate key", lan + "cores: [0]\ncores: [1]\n", "f.yaml:4: cores: duplicate key (first at line 3)"},
		{"cores type", lan + "cores: 0\n", "f.yaml:3: cores: want a sequence, got an integer"},
		{"cores empty", lan + "cores: []\n", "f.yaml:3: cores: at least one core is required"},
		{"cores negative", lan + "cores: [0, -1]\n", "f.yaml:3: cores[1]: -1 is out of range (want >= 0)"},
		{"cores dup", lan + "cores:\n  - 1\n  - 1\n", "f.yaml:5: cores[1]: duplicate core 1"},
		{"cores string", lan + "cores: [a]\n", "f.yaml:3: cores[0]: want an integer, got a string"},
		{"cores float", lan + "cores: [1.5]\n", "f.yaml:3: cores[0]: want an integer, got float"},
		{"pfkey type", lan + "pfkey: /x\n", "f.yaml:3: pfkey: want a mapping, got a string"},
		{"pfkey unknown", lan + "pfkey: {sock: /x}\n", "f.yaml:3: pfkey.sock: unknown key (want socket, dialect, mode, allow_uids, allow_gids)"},
		{"pfkey dialect", lan + "pfkey: {dialect: bsd}\n", `f.yaml:3: pfkey.dialect: unknown dialect "bsd" (want auto, freebsd, linux)`},
		{"pfkey mode str", lan + "pfkey: {mode: \"0999\"}\n", `f.yaml:3: pfkey.mode: invalid mode "0999" (want octal permission bits such as "0600")`},
		{"pfkey mode int", lan + "pfkey: {mode: 600}\n", "f.yaml:3: pfkey.mode: 600 is out of range 0..511"},
		{"pfkey mode bool", lan + "pfkey: {mode: true}\n", "f.yaml:3: pfkey.mode: want an integer, got bool"},
		{"pfkey socket empty", lan + "pfkey: {socket: \"\"}\n", "f.yaml:3: pfkey.socket: must not be empty"},
		{"pfkey socket long", lan + "pfkey: {socket: /" + strings.Repeat("x", 107) + "}\n", "f.yaml:3: pfkey.socket: path is longer than 107 bytes"},
		{"pfkey uid", lan + "pfkey:\n  allow_uids: [0, -5]\n", "f.yaml:4: pfkey.allow_uids[1]: -5 is out of range 0..4294967294"},
		{"pfkey gids type", lan + "pfkey: {allow_gids: 5}\n", "f.yaml:3: pfkey.allow_gids: want a sequence, got an integer"},
		{"admin mode", lan + "admin: {mode: \"rw\"}\n", `f.yaml:3: admin.mode: invalid mode "rw" (want octal permission bits such as "0600")`},
		{"admin unknown", lan + "admin: {dialect: linux}\n", "f.yaml:3: admin.dialect: unknown key (want socket, mode, allow_uids, allow_gids)"},
		{"ports type", "ports: {name: lan}\n", "f.yaml:1: ports: want a sequence, got a mapping"},
		{"ports empty", "ports: []\n", "f.yaml:1: ports: at least one port is required"},
		{"port type", "ports:\n  - lan\n", "f.yaml:2: ports[0]: want a mapping, got a string"},
		{"port unknown key", "ports:\n  - {name: lan, driver: pcap, tx: o, speed: 10}\n", "f.yaml:2: ports[0].speed: unknown key (want name, driver, ..."},
		{"name missing", "ports:\n  - {driver: pcap, tx: o}\n", "f.yaml:2: ports[0].name: required"},
		{"name chars", "ports:\n  - {name: \"la n\", driver: pcap, tx: o}\n", `f.yaml:2: ports[0].name: invalid port name "la n" (want 1-15 of [a-zA-Z0-9_.-])`},
		{"name long", "ports:\n  - {name: abcdefghijklmnop, driver: pcap, tx: o}\n", `f.yaml:2: ports[0].name: invalid port name "abcdefghijklmnop" ...`},
		{"name empty", "ports:\n  - {name: \"\", driver: pcap, tx: o}\n", `f.yaml:2: ports[0].name: invalid port name "" ...`},
		{"name type", "ports:\n  - {name: [a], driver: pcap, tx: o}\n", "f.yaml:2: ports[0].name: want a string, got a sequence"},
		{"name dup", lan + "  - {name: lan, driver: pcap, tx: o2}\n", `f.yaml:3: ports[1].name: duplicate port name "lan" (also ports[0], line 2)`},
		{"driver missing", "ports:\n  - {name: lan}\n", "f.yaml:2: ports[0].driver: required"},
		{"driver unknown", "cores: [0]\nports:\n  - {name: a, driver: ring}\n  - {name: b, driver: ring}\n  - {name: c, driver: ring}\n  - {name: d, driver: ring}\n  - {name: e, driver: foo}\n",
			`f.yaml:7: ports[4].driver: unknown driver "foo" (want ring, pcap, afpacket, tap, dpdk)`},
		{"pcap no files", "ports:\n  - {name: lan, driver: pcap}\n", "f.yaml:2: ports[0]: driver pcap needs rx or tx"},
		{"pcap empty rx", "ports:\n  - {name: lan, driver: pcap, rx: \"\"}\n", "f.yaml:2: ports[0].rx: must not be empty"},
		{"pcap tx dup", lan + "  - {name: lan2, driver: pcap, tx: out.pcap}\n", `f.yaml:3: ports[1].tx: file "out.pcap" is also written by port "lan"`},
		{"linktype", "ports:\n  - {name: lan, driver: pcap, tx: o, linktype: ppp}\n", `f.yaml:2: ports[0].linktype: unknown linktype "ppp" (want ethernet, raw)`},
		{"linktype afpacket", "ports:\n  - {name: up, driver: afpacket, interface: eth0, linktype: raw}\n", "f.yaml:2: ports[0].linktype: not used by driver afpacket (only by pcap)"},
		{"afpacket interface", "ports:\n  - {name: up, driver: afpacket}\n", "f.yaml:2: ports[0].interface: required"},
		{"interface pcap", "ports:\n  - {name: lan, driver: pcap, tx: o, interface: eth0}\n", "f.yaml:2: ports[0].interface: not used by driver pcap (only by afpacket or tap)"},
		{"interface invalid", "ports:\n  - {name: up, driver: afpacket, interface: eth0/1}\n", `f.yaml:2: ports[0].interface: invalid interface name "eth0/1" ...`},
		{"interface dup", "ports:\n  - {name: a, driver: afpacket, interface: eth0}\n  - {name: b, driver: tap, interface: eth0}\n", `f.yaml:3: ports[1].interface: interface "eth0" is also used by port "a"`},
		{"interface implicit", "ports:\n  - {name: a, driver: afpacket, interface: host0}\nhostpath: {port: host0}\n", `f.yaml:3: hostpath.port: interface "host0" is also used by port "a"`},
		{"rx ring", "ports:\n  - {name: a, driver: ring, rx: x.pcap}\n", "f.yaml:2: ports[0].rx: not used by driver ring (only by pcap)"},
		{"mode pcap", "ports:\n  - {name: a, driver: pcap, tx: o, mode: tun}\n", "f.yaml:2: ports[0].mode: not used by driver pcap (only by tap)"},
		{"mode tap", "ports:\n  - {name: a, driver: tap, mode: tunnel}\n", `f.yaml:2: ports[0].mode: unknown tap mode "tunnel" (want tap, tun)`},
		{"peer pcap", "ports:\n  - {name: a, driver: pcap, tx: o, peer: b}\n", "f.yaml:2: ports[0].peer: not used by driver pcap (only by ring)"},
		{"peer unknown", "ports:\n  - {name: a, driver: ring, peer: z}\n", `f.yaml:2: ports[0].peer: unknown port "z"`},
		{"peer self", "ports:\n  - {name: a, driver: ring, peer: a}\n", "f.yaml:2: ports[0].peer: a port cannot be its own peer (omit peer for loopback)"},
		{"peer not ring", "ports:\n  - {name: a, driver: ring, peer: b}\n  - {name: b, driver: pcap, tx: o}\n", `f.yaml:2: ports[0].peer: port "b" is not a ring port (driver pcap)`},
		{"peer asymmetric", ring + "  - {name: d, driver: ring, peer: a}\n", `f.yaml:5: ports[3].peer: port "a" is paired with "b", not "d": pairs must be symmetric`},
		{"peer taken", ring + "  - {name: d, driver: ring, peer: b}\n", `f.yaml:5: ports[3].peer: port "b" is already the peer of "a"`},
		{"address invalid", "ports:\n  - {name: a, driver: ring, addresses: [10.0.0.300/24]}\n", `f.yaml:2: ports[0].addresses[0]: invalid prefix "10.0.0.300/24" (want address/length)`},
		{"address no length", "ports:\n  - {name: a, driver: ring, addresses: [10.0.0.1]}\n", `f.yaml:2: ports[0].addresses[0]: invalid prefix "10.0.0.1" (want address/length)`},
		{"address multicast", "ports:\n  - {name: a, driver: ring, addresses: [224.0.0.1/4]}\n", "f.yaml:2: ports[0].addresses[0]: 224.0.0.1 is not a unicast address"},
		{"address dup", "ports:\n  - {name: a, driver: ring, addresses: [10.0.0.1/24]}\n  - {name: b, driver: ring, addresses: [10.0.0.1/16]}\n",
			"f.yaml:3: ports[1].addresses[0]: duplicate address 10.0.0.1 (also ports[0].addresses[0], line 2)"},
		{"addresses type", "ports:\n  - {name: a, driver: ring, addresses: 10.0.0.1/24}\n", "f.yaml:2: ports[0].addresses: want a sequence, got a string"},
		{"mac invalid", "ports:\n  - {name: a, driver: ring, mac: \"02:00:00:00:00\"}\n", `f.yaml:2: ports[0].mac: invalid MAC address "02:00:00:00:00" ...`},
		{"mac multicast", "ports:\n  - {name: a, driver: ring, mac: \"01:00:5e:00:00:01\"}\n", "f.yaml:2: ports[0].mac: 01:00:5e:00:00:01 is a multicast MAC address"},
		{"mtu range", "ports:\n  - {name: a, driver: ring, mtu: 9001}\n", "f.yaml:2: ports[0].mtu: 9001 is out of range 68..9000"},
		{"mtu type", "ports:\n  - {name: a, driver: ring, mtu: \"1500\"}\n", "f.yaml:2: ports[0].mtu: want an integer, got a string"},
		{"mtu ipv6", "ports:\n  - name: a\n    driver: ring\n    addresses: [\"2001:db8::1/64\"]\n    mtu: 1000\n",
			"f.yaml:5: ports[0].mtu: 1000 is below 1280, the IPv6 minimum, and the port has an IPv6 address"},
		{"queues", "ports:\n  - {name: a, driver: ring, queues: 0}\n", "f.yaml:2: ports[0].queues: 0 is out of range 1..64"},
		{"args", "ports:\n  - {name: d, driver: dpdk, args: [-l, {a: 1}]}\n", "f.yaml:2: ports[0].args[1]: want a string, got a mapping"},
		{"route type", lan + "routes: {dst: 0.0.0.0/0}\n", "f.yaml:3: routes: want a sequence, got a mapping"},
		{"route dst missing", lan + "routes:\n  - {port: lan}\n", "f.yaml:4: routes[0].dst: required"},
		{"route dst invalid", lan + "routes:\n  - {dst: default, port: lan}\n", `f.yaml:4: routes[0].dst: invalid prefix "default" (want address/length)`},
		{"route via family", lan + "routes:\n  - {dst: 0.0.0.0/0, via: \"2001:db8::1\", port: lan}\n", "f.yaml:4: routes[0].via: 2001:db8::1 is not in the address family of dst 0.0.0.0/0"},
		{"route via invalid", lan + "routes:\n  - {dst: 0.0.0.0/0, via: gw, port: lan}\n", `f.yaml:4: routes[0].via: invalid IP address "gw"`},
		{"route via zone", lan + "routes:\n  - {dst: \"::/0\", via: \"fe80::1%eth0\", port: lan}\n", "f.yaml:4: routes[0].via: fe80::1%eth0: zones are not allowed"},
		{"route via unspecified", lan + "routes:\n  - {dst: 0.0.0.0/0, via: 0.0.0.0, port: lan}\n", "f.yaml:4: routes[0].via: 0.0.0.0 is not a unicast address"},
		{"route port missing", lan + "routes:\n  - {dst: 0.0.0.0/0}\n", "f.yaml:4: routes[0].port: required"},
		{"route port unknown", lan + "routes:\n  - {dst: 0.0.0.0/0, port: wan}\n", `f.yaml:4: routes[0].port: unknown port "wan"`},
		{"route dup", lan + "routes:\n  - {dst: 10.0.0.0/8, port: lan}\n  - {dst: 10.1.0.0/8, port: lan}\n", "f.yaml:5: routes[1].dst: duplicate route to 10.0.0.0/8 (first at line 4)"},
		{"route unknown key", lan + "routes:\n  - {dst: 0.0.0.0/0, port: lan, metric: 1}\n", "f.yaml:4: routes[0].metric: unknown key (want dst, via, port)"},
		{"neighbor ip", lan + "neighbors:\n  - {ip: x, mac: \"02:00:00:00:00:01\", port: lan}\n", `f.yaml:4: neighbors[0].ip: invalid IP address "x"`},
		{"neighbor mac missing", lan + "neighbors:\n  - {ip: 10.0.0.1, port: lan}\n", "f.yaml:4: neighbors[0].mac: required"},
		{"neighbor mac", lan + "neighbors:\n  - {ip: 10.0.0.1, mac: zz, port: lan}\n", `f.yaml:4: neighbors[0].mac: invalid MAC address "zz" ...`},
		{"neighbor port", lan + "neighbors:\n  - {ip: 10.0.0.1, mac: \"02:00:00:00:00:01\", port: x}\n", `f.yaml:4: neighbors[0].port: unknown port "x"`},
		{"neighbor dup", lan + "neighbors:\n  - {ip: 10.0.0.1, mac: \"02:00:00:00:00:01\", port: lan}\n  - {ip: 10.0.0.1, mac: \"02:00:00:00:00:02\", port: lan}\n",
			`f.yaml:5: neighbors[1].ip: duplicate neighbor 10.0.0.1 on port "lan" (first at line 4)`},
		{"hostpath port missing", lan + "hostpath: {}\n", "f.yaml:3: hostpath.port: required"},
		{"hostpath name", lan + "hostpath: {port: \"host 0\"}\n", `f.yaml:3: hostpath.port: invalid port name "host 0" (want 1-15 of [a-zA-Z0-9_.-])`},
		{"hostpath type", lan + "hostpath: host0\n", "f.yaml:3: hostpath: want a mapping, got a string"},
		{"setkey type", lan + "setkey: [a.conf]\n", "f.yaml:3: setkey: want a string, got a sequence"},
		{"setkey empty", lan + "setkey: \"\"\n", "f.yaml:3: setkey: must not be empty"},
		{"sysctl type", lan + "sysctl: [a]\n", "f.yaml:3: sysctl: want a mapping, got a sequence"},
		{"sysctl value", lan + "sysctl:\n  net.key.debug: [1]\n", "f.yaml:4: sysctl.net.key.debug: want a scalar value, got a sequence"},
		{"sysctl null", lan + "sysctl:\n  net.key.debug:\n", "f.yaml:4: sysctl.net.key.debug: want a scalar value, got null"},
		{"sysctl empty name", lan + "sysctl: {\"\": 1}\n", "f.yaml:3: sysctl: empty sysctl name"},
		{"burst", lan + "engine: {burst: 257}\n", "f.yaml:3: engine.burst: 257 is out of range 1..256"},
		{"idle", lan + "engine: {idle: sleep}\n", `f.yaml:3: engine.idle: unknown idle mode "sleep" (want adaptive, poll)`},
		{"pool", lan + "engine: {burst: 64, pool_size: 32}\n", "f.yaml:3: engine.pool_size: 32 buffers is fewer than one burst (64)"},
		{"log level", lan + "log: {level: trace}\n", `f.yaml:3: log.level: unknown level "trace" (want debug, info, warn, error)`},
		{"log json", lan + "log: {json: yes please}\n", "f.yaml:3: log.json: want true or false, got a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(lines[0], prefix) {
					t.Errorf("error %q, want prefix %q", lines[0], prefix)
				}
			} else if lines[0] != tc.want {
				t.Errorf("error %q, want %q", lines[0], tc.want)
			}
			if len(lines) > 1 {
				t.Errorf("more than one error:\n%v", err)
			}
		})
	}
}

func TestAllErrors(t *testing.T) {
	const y = "ports:\n  - {name: a, driver: foo}\nroutes:\n  - {dst: x, port: a}\ncores: [-1]\n"
	_, err := Parse("f.yaml", []byte(y))
	want := "f.yaml:2: ports[0].driver: unknown driver \"foo\" (want ring, pcap, afpacket, tap, dpdk)\n" +
		"f.yaml:4: routes[0].dst: invalid prefix \"x\" (want address/length)\n" +
		"f.yaml:5: cores[0]: -1 is out of range (want >= 0)"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != "f.yaml" || e.Line != 2 || e.Key != "ports[0].driver" {
		t.Errorf("first *Error %+v", e)
	}
	if _, err := Parse("", []byte("ports: 1\n")); err == nil || !strings.HasPrefix(err.Error(), "config:1: ports:") {
		t.Errorf("unnamed: %v", err)
	}
	if _, err := Load("testdata/missing.yaml"); !os.IsNotExist(err) {
		t.Errorf("Load missing: %v", err)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("cores: [")
	for i := 0; i < 3*maxErrors; i++ {
		b.WriteString("-1, ")
	}
	b.WriteString("0]\n")
	_, err := Parse("f.yaml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "f.yaml: too many errors" {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"minimal.yaml", "offline.yaml", "full.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(ring + "hostpath: {port: h}\nroutes:\n  - {dst: \"::/0\", via: \"::1\", port: c}\n"))
	f.Add([]byte("a: &x [*x]\ncores: *x\nports: [*x, {<<: *x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if len(c.Ports) == 0 || len(c.Cores) == 0 {
			t.Fatalf("valid config without ports or cores: %+v", c)
		}
		for _, r := range c.Routes {
			if _, ok := c.Port(r.Port); !ok || !r.Dst.IsValid() || r.Dst != r.Dst.Masked() {
				t.Fatalf("bad route %+v", r)
			}
		}
		if h := c.HostPath.Port; h != "" {
			if _, ok := c.Port(h); !ok {
				t.Fatalf("host path port %q missing", h)
			}
		}
	})
}
