package config

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/enc"
)

var (
	drivers  = []string{"ring", "pcap", "afpacket", "tap", "dpdk"}
	portKeys = []string{"name", "driver", "rx", "tx", "linktype", "interface", "mode", "peer",
		"addresses", "mac", "mtu", "queues", "args"}
	// driverOnly lists the port keys that only some drivers use, in check order.
	driverOnly = []struct {
		key     string
		drivers []string
	}{
		{"rx", []string{"pcap"}}, {"tx", []string{"pcap"}}, {"linktype", []string{"pcap"}},
		{"interface", []string{"afpacket", "tap"}}, {"mode", []string{"tap"}}, {"peer", []string{"ring"}},
	}
)

// ports holds what the cross-port checks need while the rest is decoded.
type ports struct {
	list     []Port
	index    map[string]int        // name -> list index
	peer     map[int]*yaml.Node    // list index -> its peer node
	addrs    map[netip.Addr]string // address -> where first seen
	txs      map[string]string     // pcap tx file -> port name
	ifaceKey map[int]string        // list index -> interface key path (afpacket, tap)
}

// config decodes the root mapping (nil for an empty file).
func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{
		Cores:  []int{0},
		PFKey:  PFKey{Socket: "/run/ipsecd/pfkey.sock", Dialect: "auto", Mode: 0o600, AllowUIDs: []int{0}},
		Admin:  Admin{Socket: "/run/ipsecd/admin.sock", Mode: 0o600, AllowUIDs: []int{0}},
		Engine: Engine{Burst: 32, Idle: "adaptive", PoolSize: 8192},
		Log:    Log{Level: "info"},
	}
	if root == nil {
		root = &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	}
	f := d.fields(root, "", "cores", "pfkey", "admin", "ports", "routes", "neighbors",
		"hostpath", "setkey", "sysctl", "enc", "engine", "log")
	if n := f["cores"]; n != nil {
		c.Cores = d.cores(n)
	}
	if n := f["pfkey"]; n != nil {
		d.pfkey(n, &c.PFKey)
	}
	if n := f["admin"]; n != nil {
		g := d.fields(n, "admin", "socket", "mode", "allow_uids", "allow_gids")
		d.socket(g, "admin", &c.Admin.Socket, &c.Admin.Mode)
		if v := g["allow_uids"]; v != nil {
			c.Admin.AllowUIDs = d.ids(v, "admin.allow_uids")
		}
		if v := g["allow_gids"]; v != nil {
			c.Admin.AllowGIDs = d.ids(v, "admin.allow_gids")
		}
	}
	ps := &ports{index: map[string]int{}, peer: map[int]*yaml.Node{}, addrs: map[netip.Addr]string{},
		txs: map[string]string{}, ifaceKey: map[int]string{}}
	if n := f["ports"]; n != nil {
		for i, pn := range d.seq(n, "ports") {
			d.port(pn, index("ports", i), ps)
		}
	}
	d.peers(ps)
	if n := f["hostpath"]; n != nil {
		c.HostPath = d.hostPath(n, ps)
	}
	d.interfaces(ps)
	c.Ports = ps.list
	if n := f["ports"]; len(c.Ports) == 0 && f != nil && (n == nil || n.Kind == yaml.SequenceNode) {
		d.errorf(cmp.Or(n, root), "ports", "at least one port is required")
	}
	if n := f["routes"]; n != nil {
		c.Routes = d.routes(n, ps)
	}
	if n := f["neighbors"]; n != nil {
		c.Neighbors = d.neighbors(n, ps)
	}
	if n := f["setkey"]; n != nil {
		c.SetKey, _ = d.path(n, "setkey")
		c.SetKeyLine = n.Line
	}
	if n := f["sysctl"]; n != nil {
		c.Sysctl = d.sysctl(n)
	}
	if n := f["enc"]; n != nil {
		c.Enc = d.enc(n)
	}
	if n := f["engine"]; n != nil {
		d.engine(n, &c.Engine)
	}
	if n := f["log"]; n != nil {
		g := d.fields(n, "log", "level", "json")
		if v := g["level"]; v != nil {
			c.Log.Level, _ = d.oneOf(v, "log.level", "level", "debug", "info", "warn", "error")
		}
		if v := g["json"]; v != nil {
			c.Log.JSON, _ = d.boolean(v, "log.json")
		}
	}
	return c
}

func (d *decoder) cores(n *yaml.Node) []int {
	items := d.seq(n, "cores")
	if items != nil && len(items) == 0 {
		d.errorf(n, "cores", "at least one core is required")
	}
	out := []int{}
	for i, c := range items {
		v, ok := d.integer(c, index("cores", i), 0, math.MaxInt)
		if !ok {
			continue
		}
		if slices.Contains(out, v) {
			d.errorf(c, index("cores", i), "duplicate core %d", v)
			continue
		}
		out = append(out, v)
	}
	return out
}

func (d *decoder) pfkey(n *yaml.Node, p *PFKey) {
	f := d.fields(n, "pfkey", "socket", "dialect", "mode", "allow_uids", "allow_gids")
	d.socket(f, "pfkey", &p.Socket, &p.Mode)
	if v := f["dialect"]; v != nil {
		p.Dialect, _ = d.oneOf(v, "pfkey.dialect", "dialect", "auto", "freebsd", "linux")
	}
	if v := f["allow_uids"]; v != nil {
		p.AllowUIDs = d.ids(v, "pfkey.allow_uids")
	}
	if v := f["allow_gids"]; v != nil {
		p.AllowGIDs = d.ids(v, "pfkey.allow_gids")
	}
}

// socket decodes the socket and mode keys of f.
func (d *decoder) socket(f map[string]*yaml.Node, path string, socket *string, mode *os.FileMode) {
	if v := f["socket"]; v != nil {
		if s, ok := d.nonEmpty(v, join(path, "socket")); ok {
			if len(s) > 107 { // sizeof(sockaddr_un.sun_path) - 1
				d.errorf(v, join(path, "socket"), "path is longer than 107 bytes")
			}
			*socket = s
		}
	}
	if v := f["mode"]; v != nil {
		if m, ok := d.mode(v, join(path, "mode")); ok {
			*mode = os.FileMode(m)
		}
	}
}

func (d *decoder) engine(n *yaml.Node, e *Engine) {
	f := d.fields(n, "engine", "burst", "idle", "pool_size")
	if v := f["burst"]; v != nil {
		if b, ok := d.integer(v, "engine.burst", 1, 256); ok {
			e.Burst = b
		}
	}
	if v := f["idle"]; v != nil {
		e.Idle, _ = d.oneOf(v, "engine.idle", "idle mode", "adaptive", "poll")
	}
	if v := f["pool_size"]; v != nil {
		if s, ok := d.integer(v, "engine.pool_size", 1, 1<<24); ok {
			if s < e.Burst {
				d.errorf(v, "engine.pool_size", "%d buffers is fewer than one burst (%d)", s, e.Burst)
			}
			e.PoolSize = s
		}
	}
}

// validName reports whether s is 1-15 of [a-zA-Z0-9_.-].
func validName(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// validInterface reports whether s can be a Linux interface name.
func validInterface(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '/' || r == ':' || r == 0x7f {
			return false
		}
	}
	return true
}

func (d *decoder) port(n *yaml.Node, path string, ps *ports) {
	p := Port{Line: n.Line, MTU: 1500, Queues: 1}
	f := d.fields(n, path, portKeys...)
	at := func(key string) string { return join(path, key) }
	if v := d.required(f, n, path, "name"); v != nil {
		if s, ok := d.str(v, at("name")); ok {
			if j, dup := ps.index[s]; dup {
				d.errorf(v, at("name"), "duplicate port name %q (also ports[%d], line %d)", s, j, ps.list[j].Line)
			} else if !validName(s) {
				d.errorf(v, at("name"), "invalid port name %q (want 1-15 of [a-zA-Z0-9_.-])", s)
			} else {
				p.Name = s
			}
		}
	}
	if v := d.required(f, n, path, "driver"); v != nil {
		p.Driver, _ = d.oneOf(v, at("driver"), "driver", drivers...)
	}
	if p.Driver != "" {
		for _, o := range driverOnly {
			if v := f[o.key]; v != nil && !slices.Contains(o.drivers, p.Driver) {
				d.errorf(v, at(o.key), "not used by driver %s (only by %s)", p.Driver, joinOr(o.drivers))
				delete(f, o.key)
			}
		}
	}
	if v := f["rx"]; v != nil {
		p.Rx, _ = d.path(v, at("rx"))
	}
	if v := f["tx"]; v != nil {
		if s, ok := d.path(v, at("tx")); ok {
			if other, dup := ps.txs[s]; dup {
				d.errorf(v, at("tx"), "file %q is also written by port %q", s, other)
			}
			ps.txs[s] = p.Name
			p.Tx = s
		}
	}
	if v := f["linktype"]; v != nil {
		if s, _ := d.oneOf(v, at("linktype"), "linktype", "ethernet", "raw"); s == "raw" {
			p.LinkType = pkt.LinkRawIP
		}
	}
	if v := f["interface"]; v != nil {
		if s, ok := d.str(v, at("interface")); ok {
			if validInterface(s) {
				p.Interface = s
			} else {
				d.errorf(v, at("interface"), "invalid interface name %q (want 1-15 bytes without '/', ':' or spaces)", s)
			}
		}
	}
	if v := f["mode"]; v != nil {
		p.Mode, _ = d.oneOf(v, at("mode"), "tap mode", "tap", "tun")
	}
	if v := f["peer"]; v != nil {
		p.Peer, _ = d.str(v, at("peer"))
	}
	if v := f["addresses"]; v != nil {
		for i, a := range d.seq(v, at("addresses")) {
			key := index(at("addresses"), i)
			pr, ok := d.prefix(a, key)
			if !ok {
				continue
			}
			if ad := pr.Addr(); ad.IsUnspecified() || ad.IsMulticast() {
				d.errorf(a, key, "%s is not a unicast address", ad)
			} else if first, dup := ps.addrs[ad]; dup {
				d.errorf(a, key, "duplicate address %s (also %s)", ad, first)
			} else {
				ps.addrs[ad] = fmt.Sprintf("%s, line %d", key, a.Line)
				p.Addresses = append(p.Addresses, pr)
			}
		}
	}
	if v := f["mac"]; v != nil {
		p.MAC, p.HasMAC = d.mac(v, at("mac"))
	}
	if v := f["mtu"]; v != nil {
		if m, ok := d.integer(v, at("mtu"), 68, 9000); ok {
			p.MTU = m
		}
	}
	if v := f["queues"]; v != nil {
		if q, ok := d.integer(v, at("queues"), 1, 64); ok {
			p.Queues = q
		}
	}
	if v := f["args"]; v != nil {
		p.Args = []string{}
		for i, a := range d.seq(v, at("args")) {
			if s, ok := d.str(a, index(at("args"), i)); ok {
				p.Args = append(p.Args, s)
			}
		}
	}
	if p.MTU < 1280 && slices.ContainsFunc(p.Addresses, func(a netip.Prefix) bool { return a.Addr().Is6() }) {
		if v := f["mtu"]; v != nil {
			d.errorf(v, at("mtu"), "%d is below 1280, the IPv6 minimum, and the port has an IPv6 address", p.MTU)
		} else {
			d.errorf(n, at("mtu"), "%d is below 1280, the IPv6 minimum, and the port has an IPv6 address", p.MTU)
		}
	}
	switch p.Driver {
	case "pcap":
		if f["rx"] == nil && f["tx"] == nil {
			d.errorf(n, path, "driver pcap needs rx or tx")
		}
	case "afpacket":
		d.required(f, n, path, "interface")
	case "tap":
		if p.Interface == "" {
			p.Interface = p.Name
		}
		if p.Mode == "" {
			p.Mode = "tap"
		}
		if p.Mode == "tun" {
			p.LinkType = pkt.LinkRawIP
		}
	}
	i := len(ps.list)
	if p.Peer != "" {
		ps.peer[i] = f["peer"]
	}
	if p.Driver == "afpacket" || p.Driver == "tap" {
		ps.ifaceKey[i] = at("interface")
	}
	if p.Name != "" {
		ps.index[p.Name] = i
	}
	ps.list = append(ps.list, p)
}

// joinOr formats a short list as "a", "a or b", "a, b or c".
func joinOr(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	out := ""
	for i, x := range s[:len(s)-1] {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out + " or " + s[len(s)-1]
}

// peers checks ring peers and makes each pair symmetric.
func (d *decoder) peers(ps *ports) {
	paired := map[string]string{}
	for i := range ps.list {
		p := &ps.list[i]
		n := ps.peer[i]
		if n == nil || p.Driver != "ring" {
			continue
		}
		key := index("ports", i) + ".peer"
		j, ok := ps.index[p.Peer]
		switch {
		case !ok:
			d.errorf(n, key, "unknown port %q", p.Peer)
		case j == i:
			d.errorf(n, key, "a port cannot be its own peer (omit peer for loopback)")
		case ps.list[j].Driver != "ring":
			d.errorf(n, key, "port %q is not a ring port (driver %s)", p.Peer, ps.list[j].Driver)
		case ps.list[j].Peer != "" && ps.list[j].Peer != p.Name:
			d.errorf(n, key, "port %q is paired with %q, not %q: pairs must be symmetric", p.Peer, ps.list[j].Peer, p.Name)
		case paired[p.Peer] != "" && paired[p.Peer] != p.Name:
			d.errorf(n, key, "port %q is already the peer of %q", p.Peer, paired[p.Peer])
		default:
			paired[p.Peer], paired[p.Name] = p.Name, p.Peer
		}
	}
	for i := range ps.list {
		if p := &ps.list[i]; p.Driver == "ring" && p.Peer == "" {
			p.Peer = paired[p.Name]
		}
	}
}

// hostPath decodes hostpath, adding an implicit TAP port when it names an undeclared port.
func (d *decoder) hostPath(n *yaml.Node, ps *ports) HostPath {
	f := d.fields(n, "hostpath", "port")
	v := d.required(f, n, "hostpath", "port")
	if v == nil {
		return HostPath{}
	}
	s, ok := d.str(v, "hostpath.port")
	if !ok {
		return HostPath{}
	}
	if _, declared := ps.index[s]; !declared {
		if !validName(s) {
			d.errorf(v, "hostpath.port", "invalid port name %q (want 1-15 of [a-zA-Z0-9_.-])", s)
			return HostPath{}
		}
		i := len(ps.list)
		ps.index[s] = i
		ps.ifaceKey[i] = "hostpath.port"
		ps.list = append(ps.list, Port{Name: s, Driver: "tap", Line: v.Line, Interface: s, Mode: "tap",
			MTU: 1500, Queues: 1, Implicit: true})
	}
	return HostPath{Port: s, Line: v.Line}
}

// interfaces checks that no two afpacket or tap ports share an interface.
func (d *decoder) interfaces(ps *ports) {
	owner := map[string]string{}
	for i := range ps.list {
		p := ps.list[i]
		k, ok := ps.ifaceKey[i]
		if !ok || p.Interface == "" {
			continue
		}
		if other, dup := owner[p.Interface]; dup {
			d.errorf(&yaml.Node{Line: p.Line}, k, "interface %q is also used by port %q", p.Interface, other)
			continue
		}
		owner[p.Interface] = p.Name
	}
}

// portRef returns the name of an existing port.
func (d *decoder) portRef(n *yaml.Node, path string, ps *ports) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if _, ok := ps.index[s]; !ok {
		d.errorf(n, path, "unknown port %q", s)
		return ""
	}
	return s
}

func (d *decoder) routes(n *yaml.Node, ps *ports) []Route {
	out := []Route{}
	first := map[netip.Prefix]int{}
	for i, rn := range d.seq(n, "routes") {
		path := index("routes", i)
		f := d.fields(rn, path, "dst", "via", "port")
		r := Route{Line: rn.Line}
		ok := true
		if v := d.required(f, rn, path, "dst"); v != nil {
			var good bool
			r.Dst, good = d.prefix(v, path+".dst")
			r.Dst = r.Dst.Masked()
			if line, dup := first[r.Dst]; good && dup {
				d.errorf(v, path+".dst", "duplicate route to %s (first at line %d)", r.Dst, line)
			} else if good {
				first[r.Dst] = rn.Line
			}
			ok = ok && good
		} else {
			ok = false
		}
		if v := f["via"]; v != nil {
			var good bool
			r.Via, good = d.addr(v, path+".via")
			if good && r.Dst.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
				d.errorf(v, path+".via", "%s is not in the address family of dst %s", r.Via, r.Dst)
				good = false
			}
			ok = ok && good
		}
		if v := d.required(f, rn, path, "port"); v != nil {
			r.Port = d.portRef(v, path+".port", ps)
		}
		if ok && r.Port != "" {
			out = append(out, r)
		}
	}
	return out
}

func (d *decoder) neighbors(n *yaml.Node, ps *ports) []Neighbor {
	out := []Neighbor{}
	type key struct {
		port string
		ip   netip.Addr
	}
	first := map[key]int{}
	for i, nn := range d.seq(n, "neighbors") {
		path := index("neighbors", i)
		f := d.fields(nn, path, "ip", "mac", "port")
		nb := Neighbor{Line: nn.Line}
		okIP, okMAC := false, false
		if v := d.required(f, nn, path, "ip"); v != nil {
			nb.IP, okIP = d.addr(v, path+".ip")
		}
		if v := d.required(f, nn, path, "mac"); v != nil {
			nb.MAC, okMAC = d.mac(v, path+".mac")
		}
		if v := d.required(f, nn, path, "port"); v != nil {
			nb.Port = d.portRef(v, path+".port", ps)
		}
		if !okIP || !okMAC || nb.Port == "" {
			continue
		}
		if line, dup := first[key{nb.Port, nb.IP}]; dup {
			d.errorf(f["ip"], path+".ip", "duplicate neighbor %s on port %q (first at line %d)", nb.IP, nb.Port, line)
			continue
		}
		first[key{nb.Port, nb.IP}] = nn.Line
		out = append(out, nb)
	}
	return out
}

func (d *decoder) sysctl(n *yaml.Node) []Sysctl {
	out := []Sysctl{}
	for _, kv := range d.pairs(n, "sysctl") {
		k, v := kv[0], kv[1]
		path := join("sysctl", k.Value)
		switch {
		case k.Value == "":
			d.errorf(k, "sysctl", "empty sysctl name")
		case v.Kind != yaml.ScalarNode || isNull(v):
			d.errorf(v, path, "want a scalar value, got %s", kind(v))
		default:
			out = append(out, Sysctl{Name: k.Value, Value: v.Value, Line: k.Line})
		}
	}
	return out
}

// enc decodes the enc0 section: rules in enc.Rule's text form.
func (d *decoder) enc(n *yaml.Node) Enc {
	e := Enc{Line: n.Line}
	f := d.fields(n, "enc", "rules")
	v := f["rules"]
	if v == nil {
		return e
	}
	items := d.seq(v, "enc.rules")
	if len(items) > enc.MaxRules {
		d.errorf(v, "enc.rules", "%d rules, at most %d", len(items), enc.MaxRules)
		return e
	}
	for i, rn := range items {
		path := index("enc.rules", i)
		s, ok := d.str(rn, path)
		if !ok {
			continue
		}
		r, err := enc.Parse(s)
		if err != nil {
			d.errorf(rn, path, "%v", err)
			continue
		}
		e.Rules = append(e.Rules, r)
	}
	return e
}
