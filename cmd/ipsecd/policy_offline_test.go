package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
)

// The offline policy test: a generated capture of mixed IPv4/IPv6 traffic
// (UDP, TCP, ICMP, ICMPv6 with assorted ports and types, from the lan and
// from the wan) runs through ipsecd with an SPD of overlapping policies
// at several priorities. The expected output pcaps come from refPolicy, a
// small linear reference classifier written here from the rules (highest
// priority first, then the earlier installed; first match wins), and the
// ESP packets are checked by hand: ESP-NULL carries the inner packet in
// the clear, and the HMAC-SHA-256-128 ICV is recomputed with crypto/hmac.

// refPolicy is one policy of the set, as the reference sees it.
type refPolicy struct {
	dir      string // in, out, fwd
	prio     int32
	src, dst string // prefixes
	sport    int    // -1 any
	dport    int    // -1 any
	proto    int    // -1 any
	icmpType int    // -1 any
	icmpCode int    // -1 any
	action   string
	spi      uint32 // ipsec: the SA (reqid = spi)
}

// setkey renders the policy in setkey(8) syntax.
func (p refPolicy) setkey(tunnel4, tunnel6 string) string {
	port := func(n int) string {
		if n < 0 {
			return "[any]"
		}
		return fmt.Sprintf("[%d]", n)
	}
	proto := "any"
	if p.proto >= 0 {
		proto = map[int]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}[p.proto]
	}
	if p.icmpType >= 0 {
		proto += fmt.Sprintf(" %d", p.icmpType)
		if p.icmpCode >= 0 {
			proto += fmt.Sprintf(",%d", p.icmpCode)
		}
	}
	act := p.action
	if act == "ipsec" {
		tun := tunnel4
		if strings.Contains(p.src, ":") {
			tun = tunnel6
		}
		act = fmt.Sprintf("ipsec esp/tunnel/%s/unique:%d", tun, p.spi)
	}
	return fmt.Sprintf("spdadd %s%s %s%s %s -P %s prio %d %s;\n", p.src, port(p.sport), p.dst, port(p.dport), proto, p.dir, p.prio, act)
}

// matches is the reference selector match.
func (p refPolicy) matches(pk refPacket) bool {
	if !netip.MustParsePrefix(p.src).Contains(pk.src) || !netip.MustParsePrefix(p.dst).Contains(pk.dst) {
		return false
	}
	if p.proto >= 0 && p.proto != pk.proto {
		return false
	}
	if pk.proto == 1 || pk.proto == 58 {
		return (p.icmpType < 0 || p.icmpType == pk.typ) && (p.icmpCode < 0 || p.icmpCode == pk.code) && p.sport < 0 && p.dport < 0
	}
	return (p.sport < 0 || p.sport == pk.sport) && (p.dport < 0 || p.dport == pk.dport) && p.icmpType < 0
}

// refLookup returns the first policy of dir in SPD order matching pk.
func refLookup(set []refPolicy, dir string, pk refPacket) *refPolicy {
	order := make([]int, len(set))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(set[b].prio) - int(set[a].prio) })
	for _, i := range order {
		if set[i].dir == dir && set[i].matches(pk) {
			return &set[i]
		}
	}
	return nil
}

type refPacket struct {
	src, dst     netip.Addr
	proto        int
	sport, dport int
	typ, code    int
	fromWan      bool
	raw          []byte
}

// policySet: IKE bypass, a broad tunnel, exceptions above it by priority,
// an ICMP type/code split, a same-priority later policy that never wins,
// source-port and entrust rules, ND in the clear, catch-all discards; and
// for the wan side, clear traffic from the remote net refused unless it
// is an echo reply.
var policySet = []refPolicy{
	{"out", 100, "0.0.0.0/0", "0.0.0.0/0", -1, 500, 17, -1, -1, "bypass", 0},
	{"out", 0, "192.0.2.0/24", "203.0.113.0/24", -1, -1, -1, -1, -1, "ipsec", 0x1001},
	{"out", 10, "192.0.2.0/24", "203.0.113.0/24", -1, 443, 6, -1, -1, "none", 0},
	{"out", 0, "192.0.2.0/24", "203.0.113.64/26", -1, -1, -1, -1, -1, "discard", 0},
	{"out", 5, "192.0.2.0/24", "203.0.113.0/24", -1, -1, 1, 3, -1, "none", 0},
	{"out", 5, "192.0.2.0/24", "203.0.113.0/24", -1, -1, 1, 8, 0, "ipsec", 0x1002},
	{"out", -10, "192.0.2.0/24", "0.0.0.0/0", -1, -1, -1, -1, -1, "discard", 0},
	{"out", 1, "192.0.2.128/25", "198.18.0.0/15", -1, -1, 17, -1, -1, "entrust", 0},
	{"out", 20, "192.0.2.0/24", "203.0.113.0/24", 22, -1, 6, -1, -1, "discard", 0},
	{"out", 100, "::/0", "::/0", -1, -1, 58, 135, 0, "none", 0},
	{"out", 100, "::/0", "::/0", -1, -1, 58, 136, 0, "none", 0},
	{"out", 0, "2001:db8:1::/48", "2001:db8:3::/48", -1, -1, -1, -1, -1, "ipsec", 0x1003},
	{"out", 3, "2001:db8:1::/48", "2001:db8:3::/48", -1, 80, 6, -1, -1, "bypass", 0},
	{"out", -1, "::/0", "::/0", -1, -1, -1, -1, -1, "discard", 0},
	{"fwd", 0, "203.0.113.0/24", "192.0.2.0/24", -1, -1, -1, -1, -1, "ipsec", 0x2001},
	{"fwd", 10, "203.0.113.0/24", "192.0.2.0/24", -1, -1, 1, 0, -1, "none", 0},
	{"fwd", 0, "2001:db8:3::/48", "2001:db8:1::/48", -1, -1, 58, 129, -1, "none", 0},
}

const (
	policyGateway = `
ports:
  - {name: lan, driver: pcap, rx: lan-in.pcap, tx: lan-out.pcap, linktype: raw, addresses: [192.0.2.1/24, "2001:db8:1::1/64"]}
  - {name: wan, driver: pcap, rx: wan-in.pcap, tx: wan-out.pcap, linktype: raw, addresses: [198.51.100.1/24, "2001:db8:2::1/64"]}
routes:
  - {dst: 0.0.0.0/0, via: 198.51.100.2, port: wan}
  - {dst: "::/0", via: "2001:db8:2::2", port: wan}
setkey: gw.setkey
`
	tunnel4 = "198.51.100.1-198.51.100.2"
	tunnel6 = "2001:db8:2::1-2001:db8:2::2"
)

// authKey is the HMAC key of SA spi.
func authKey(spi uint32) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(spi) + byte(i)
	}
	return k
}

// mixedTraffic generates the capture: n packets from the lan, a few from
// the wan, seeded so the run is the same every time.
func mixedTraffic(n int) []refPacket {
	r := rand.New(rand.NewPCG(4301, 2367))
	src4 := []string{"192.0.2.10", "192.0.2.200"}
	dst4 := []string{"203.0.113.5", "203.0.113.70", "198.18.0.9", "8.8.8.8"}
	src6 := []string{"2001:db8:1::10", "2001:db8:1::20"}
	dst6 := []string{"2001:db8:3::5", "2001:db8:3:1::9", "2001:db8:9::1"}
	var out []refPacket
	for i := range n {
		v6 := r.IntN(3) == 0
		s, d := src4[r.IntN(len(src4))], dst4[r.IntN(len(dst4))]
		if v6 {
			s, d = src6[r.IntN(len(src6))], dst6[r.IntN(len(dst6))]
		}
		out = append(out, makePacket(r, s, d, i, false))
	}
	for i := range 40 {
		s, d := "203.0.113.5", "192.0.2.10"
		if i%3 == 0 {
			s, d = "2001:db8:3::5", "2001:db8:1::10"
		}
		out = append(out, makePacket(r, s, d, n+i, true))
	}
	return out
}

func makePacket(r *rand.Rand, s, d string, i int, fromWan bool) refPacket {
	pk := refPacket{src: netip.MustParseAddr(s), dst: netip.MustParseAddr(d), fromWan: fromWan, sport: -1, dport: -1, typ: -1, code: -1}
	v6 := pk.src.Is6()
	switch k := r.IntN(4); k {
	case 0, 1:
		pk.proto = 17
		if k == 1 {
			pk.proto = 6
		}
		pk.sport = []int{22, 500, 40000 + i}[r.IntN(3)]
		pk.dport = []int{53, 80, 443, 500, 4444}[r.IntN(5)]
	default:
		pk.proto = 1
		types := [][2]int{{8, 0}, {0, 0}, {3, 1}, {3, 3}, {11, 0}, {8, 1}}
		if v6 {
			pk.proto = 58
			types = [][2]int{{128, 0}, {129, 0}, {1, 4}, {135, 0}, {136, 0}, {135, 1}}
		}
		tc := types[r.IntN(len(types))]
		pk.typ, pk.code = tc[0], tc[1]
	}
	pk.raw = rawPacket(pk, i)
	return pk
}

// rawPacket builds the packet's bytes (checksums of the IP header in
// full; upper-layer checksums are not examined by the router).
func rawPacket(pk refPacket, i int) []byte {
	var l4 []byte
	switch pk.proto {
	case 17:
		l4 = make([]byte, 8+24)
		binary.BigEndian.PutUint16(l4[0:], uint16(pk.sport))
		binary.BigEndian.PutUint16(l4[2:], uint16(pk.dport))
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	case 6:
		l4 = make([]byte, 20+24)
		binary.BigEndian.PutUint16(l4[0:], uint16(pk.sport))
		binary.BigEndian.PutUint16(l4[2:], uint16(pk.dport))
		l4[12] = 5 << 4
	default:
		l4 = make([]byte, 8+24)
		l4[0], l4[1] = byte(pk.typ), byte(pk.code)
	}
	binary.BigEndian.PutUint32(l4[len(l4)-4:], uint32(i)) // identifies the packet
	if pk.src.Is4() {
		p := make([]byte, 20+len(l4))
		p[0], p[8], p[9] = 0x45, 64, byte(pk.proto)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		binary.BigEndian.PutUint16(p[4:], uint16(i))
		s, d := pk.src.As4(), pk.dst.As4()
		copy(p[12:], s[:])
		copy(p[16:], d[:])
		binary.BigEndian.PutUint16(p[10:], hdr.Checksum(p[:20], 0))
		copy(p[20:], l4)
		return p
	}
	p := make([]byte, 40+len(l4))
	p[0], p[6], p[7] = 0x60, byte(pk.proto), 64
	binary.BigEndian.PutUint16(p[4:], uint16(len(l4)))
	s, d := pk.src.As16(), pk.dst.As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	copy(p[40:], l4)
	return p
}

// expected is where the reference sends a packet.
type expected struct {
	port string // "lan", "wan" or "" (dropped)
	spi  uint32 // ESP when non-zero
	pkt  []byte // the packet as forwarded (the inner packet for ESP)
}

// refRoute applies the reference SPD to a packet forwarded by the router
// (def_policy 1): the inbound check (fwd policies, then in), then the
// outbound one. Nothing here is IPsec-protected on arrival.
func refRoute(pk refPacket) expected {
	fwd := forwarded4
	if pk.src.Is6() {
		fwd = forwarded6
	}
	in := refLookup(policySet, "fwd", pk)
	if in == nil {
		in = refLookup(policySet, "in", pk)
	}
	if in != nil && (in.action == "discard" || in.action == "ipsec") { // ipsec: unique, mandatory
		return expected{}
	}
	to := "wan"
	if pk.fromWan {
		to = "lan"
	}
	out := refLookup(policySet, "out", pk)
	switch {
	case out == nil || out.action == "entrust" || out.action == "none" || out.action == "bypass":
		return expected{port: to, pkt: fwd(pk.raw)}
	case out.action == "discard":
		return expected{}
	}
	return expected{port: "wan", spi: out.spi, pkt: fwd(pk.raw)}
}

// openESPNull checks an ESP-NULL tunnel packet with HMAC-SHA-256-128 and
// returns its SPI, sequence number and inner packet.
func openESPNull(t *testing.T, p []byte) (spi, seq uint32, inner []byte) {
	t.Helper()
	off, proto := 20, p[9]
	if p[0]>>4 == 6 {
		off, proto = 40, p[6]
	}
	if proto != hdr.ProtoESP || len(p) < off+8+16+2 {
		t.Fatalf("not ESP: %x", p)
	}
	esp := p[off:]
	spi, seq = binary.BigEndian.Uint32(esp), binary.BigEndian.Uint32(esp[4:])
	body, icv := esp[:len(esp)-16], esp[len(esp)-16:]
	m := hmac.New(sha256.New, authKey(spi))
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:16], icv) {
		t.Fatalf("SPI %#x seq %d: ICV does not verify", spi, seq)
	}
	padLen, next := int(body[len(body)-2]), body[len(body)-1]
	if len(body)%4 != 0 || padLen+2+8 > len(body) {
		t.Fatalf("SPI %#x: bad trailer", spi)
	}
	for i := range padLen {
		if body[len(body)-2-padLen+i] != byte(i+1) {
			t.Fatalf("SPI %#x: padding bytes %x", spi, body[len(body)-2-padLen:len(body)-2])
		}
	}
	inner = body[8 : len(body)-2-padLen]
	if want := map[byte]byte{4: hdr.ProtoIPIP, 6: hdr.ProtoIPv6}[inner[0]>>4]; next != want {
		t.Fatalf("SPI %#x: next header %d", spi, next)
	}
	return spi, seq, inner
}

func TestOfflinePolicyCapture(t *testing.T) {
	dir := t.TempDir()
	traffic := mixedTraffic(600)
	var lanIn, wanIn [][]byte
	for _, pk := range traffic {
		if pk.fromWan {
			wanIn = append(wanIn, pk.raw)
		} else {
			lanIn = append(lanIn, pk.raw)
		}
	}
	writePcap(t, filepath.Join(dir, "lan-in.pcap"), lanIn)
	writePcap(t, filepath.Join(dir, "wan-in.pcap"), wanIn)

	var keys strings.Builder
	for _, sa := range []struct {
		spi      uint32
		src, dst string
	}{{0x1001, "198.51.100.1", "198.51.100.2"}, {0x1002, "198.51.100.1", "198.51.100.2"},
		{0x1003, "2001:db8:2::1", "2001:db8:2::2"}, {0x2001, "198.51.100.2", "198.51.100.1"}} {
		fmt.Fprintf(&keys, "add %s %s esp %#x -m tunnel -u %d -E null -A hmac-sha256 0x%x;\n", sa.src, sa.dst, sa.spi, sa.spi, authKey(sa.spi))
	}
	for _, p := range policySet {
		keys.WriteString(p.setkey(tunnel4, tunnel6))
	}
	runGateway(t, dir, "gw", policyGateway, keys.String())

	// The reference's output, per port in input order. Two inputs are
	// read alternately by the router, so compare each port's output per
	// input port's order: lan-in feeds wan-out, wan-in feeds lan-out.
	var wantWan, wantLan []expected
	dropped := 0
	for _, pk := range traffic {
		e := refRoute(pk)
		switch e.port {
		case "wan":
			wantWan = append(wantWan, e)
		case "lan":
			wantLan = append(wantLan, e)
		default:
			dropped++
		}
	}
	gotWan := readPcap(t, filepath.Join(dir, "wan-out.pcap"))
	gotLan := readPcap(t, filepath.Join(dir, "lan-out.pcap"))
	if len(gotWan) != len(wantWan) || len(gotLan) != len(wantLan) {
		t.Fatalf("wan %d packets (want %d), lan %d (want %d)", len(gotWan), len(wantWan), len(gotLan), len(wantLan))
	}
	seqs := map[uint32]uint32{}
	kinds := map[string]int{}
	for i, e := range wantWan {
		got := gotWan[i]
		if e.spi == 0 {
			if !bytes.Equal(got, e.pkt) {
				t.Fatalf("wan packet %d:\n got %x\nwant %x (clear)", i, got, e.pkt)
			}
			kinds["clear"]++
			continue
		}
		spi, seq, inner := openESPNull(t, got)
		seqs[spi]++
		if spi != e.spi || seq != seqs[spi] || !bytes.Equal(inner, e.pkt) {
			t.Fatalf("wan packet %d: SPI %#x seq %d inner %x, want SPI %#x seq %d inner %x", i, spi, seq, inner, e.spi, seqs[spi], e.pkt)
		}
		kinds[fmt.Sprintf("esp %#x", spi)]++
	}
	for i, e := range wantLan {
		if !bytes.Equal(gotLan[i], e.pkt) {
			t.Fatalf("lan packet %d:\n got %x\nwant %x", i, gotLan[i], e.pkt)
		}
	}
	// The capture exercises every kind of outcome.
	if kinds["clear"] == 0 || kinds["esp 0x1001"] == 0 || kinds["esp 0x1002"] == 0 || kinds["esp 0x1003"] == 0 ||
		len(wantLan) == 0 || dropped == 0 {
		t.Fatalf("capture too narrow: %v, lan %d, dropped %d", kinds, len(wantLan), dropped)
	}
	t.Logf("wan: %v; lan: %d clear; dropped by policy: %d", kinds, len(wantLan), dropped)
}
