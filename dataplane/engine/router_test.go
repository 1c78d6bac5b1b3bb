package engine

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// rig is a router with two Ethernet ports: a (192.0.2.1/24,
// 2001:db8:a::1/64) and b (198.51.100.1/24, 2001:db8:b::1/64), plus
// routes to 203.0.113.0/24 and 2001:db8:c::/48 via hosts on b.
type rig struct {
	t    testing.TB
	e    *Engine
	a, b *fakePort
	host *fakePort
	pool *pkt.Pool
}

type rigOpt struct {
	noNeighbors bool
	hostPath    pkt.LinkType // 0xff: none
	mtuB        int
}

func newRig(t testing.TB, o rigOpt) *rig {
	t.Helper()
	pool := pkt.NewPool("test", 4096, 0)
	r := &rig{t: t, pool: pool}
	r.a = newFakePort("a", 0x01, pkt.LinkEthernet, pool)
	r.b = newFakePort("b", 0x02, pkt.LinkEthernet, pool)
	if o.mtuB != 0 {
		r.b.mtu = o.mtuB
	}
	cfg := Config{
		Ports:     []Port{r.a, r.b},
		Addresses: [][]netip.Prefix{{rtrA, rtr6A}, {rtrB, rtr6B}},
		Routes: []Route{
			{Dst: netip.MustParsePrefix("203.0.113.0/24"), Via: ipB, Port: 1},
			{Dst: netip.MustParsePrefix("2001:db8:c::/48"), Via: ip6B, Port: 1},
		},
		HostPort: -1,
		Pool:     pool,
	}
	if !o.noNeighbors {
		cfg.Neighbors = []Neighbor{
			{IP: ipA, MAC: macA, Port: 0}, {IP: ipB, MAC: macB, Port: 1},
			{IP: ip6A, MAC: macA, Port: 0}, {IP: ip6B, MAC: macB, Port: 1},
		}
	}
	if o.hostPath != 0xff {
		r.host = newFakePort("host0", 0x03, o.hostPath, pool)
		cfg.Ports = append(cfg.Ports, r.host)
		cfg.HostPort = 2
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	return r
}

// step runs the core until no work is left.
func (r *rig) step() {
	c := r.e.cores[0]
	for i := 0; i < 8; i++ {
		c.poll()
		c.lastTick = -1e18
		c.tick()
	}
}

func (r *rig) drops(reason stats.Reason) uint64 { return r.e.cores[0].stats.Drops(reason) }

// one expects exactly one frame on p and returns its IP packet.
func one(t testing.TB, p *fakePort, wantDst [6]byte) []byte {
	t.Helper()
	got := p.take()
	if len(got) != 1 {
		t.Fatalf("port %s sent %d frames, want 1", p.name, len(got))
	}
	e := hdr.Ethernet(got[0])
	if e.Dst() != wantDst || e.Src() != p.mac {
		t.Fatalf("port %s: frame %x > %x, want %x > %x", p.name, e.Src(), e.Dst(), p.mac, wantDst)
	}
	return got[0][14:]
}

func noHost() rigOpt { return rigOpt{hostPath: 0xff} }

func TestForwardIPv4(t *testing.T) {
	r := newRig(t, noHost())
	in := udp4(ipA, remote, 64, 100, false)
	r.a.push(t, eth(r.a.mac, macA, in))
	r.step()
	out := one(t, r.b, macB)
	ip := hdr.IPv4(out)
	if !ip.IsValid(len(out)) || ip.TTL() != 63 || !ip.ChecksumValid() {
		t.Fatalf("bad forwarded header: ttl %d valid %v", ip.TTL(), ip.ChecksumValid())
	}
	want := append([]byte(nil), in...)
	hdr.IPv4(want).DecTTL()
	if !bytes.Equal(out, want) {
		t.Fatalf("forwarded packet differs:\n got %x\nwant %x", out, want)
	}
	if s := r.e.Total(); s.Forwarded != 1 || s.TotalDrops() != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestForwardIPv6(t *testing.T) {
	r := newRig(t, noHost())
	in := udp6(ip6A, remote6, 64, 100)
	r.a.push(t, eth(r.a.mac, macA, in))
	r.step()
	out := one(t, r.b, macB)
	want := append([]byte(nil), in...)
	want[7] = 63
	if !bytes.Equal(out, want) {
		t.Fatalf("forwarded packet differs:\n got %x\nwant %x", out, want)
	}
}

func TestConnectedRouteUsesDestinationAsNextHop(t *testing.T) {
	r := newRig(t, noHost())
	r.a.push(t, eth(r.a.mac, macA, udp4(ipA, ipB, 64, 10, false)))
	r.a.push(t, eth(r.a.mac, macA, udp6(ip6A, ip6B, 64, 10)))
	r.step()
	if got := r.b.take(); len(got) != 2 || hdr.Ethernet(got[0]).Dst() != macB || hdr.Ethernet(got[1]).Dst() != macB {
		t.Fatalf("want 2 frames to %x, got %d", macB, len(got))
	}
}

// icmpOf checks out is an ICMP(v6) error of the given type/code sent from
// the router's address to the original source and quoting orig.
func icmpOf(t *testing.T, out, orig []byte, typ, code uint8) hdr.ICMP {
	t.Helper()
	var m hdr.ICMP
	if out[0]>>4 == 4 {
		ip := hdr.IPv4(out)
		if !ip.IsValid(len(out)) || ip.Protocol() != hdr.ProtoICMP || ip.Dst() != hdr.IPv4(orig).Src() ||
			netipFrom4(ip.Src()) != rtrA.Addr() || !ip.ChecksumValid() {
			t.Fatalf("bad ICMP IPv4 header %x", out[:20])
		}
		m = hdr.ICMP(out[20:])
		if !m.ChecksumValid(0) {
			t.Fatal("bad ICMP checksum")
		}
	} else {
		ip := hdr.IPv6(out)
		if !ip.IsValid(len(out)) || ip.NextHeader() != hdr.ProtoICMPv6 || ip.Dst() != hdr.IPv6(orig).Src() ||
			netip.AddrFrom16(ip.Src()) != rtr6A.Addr() {
			t.Fatalf("bad ICMPv6 header %x", out[:40])
		}
		m = hdr.ICMP(out[40:])
		if !m.ChecksumValid(ip.PseudoSum(hdr.ProtoICMPv6, len(m))) {
			t.Fatal("bad ICMPv6 checksum")
		}
	}
	if m.Type() != typ || m.Code() != code {
		t.Fatalf("ICMP type/code %d/%d, want %d/%d", m.Type(), m.Code(), typ, code)
	}
	if q := m[8:]; len(q) < 28 || !bytes.Equal(q[12:20], orig[12:20]) && out[0]>>4 == 4 {
		t.Fatalf("ICMP error does not quote the original header")
	}
	return m
}

func netipFrom4(a [4]byte) netip.Addr { return netip.AddrFrom4(a) }

func TestICMPErrors(t *testing.T) {
	big4 := udp4(ipA, remote, 64, 1600, true)
	cases := []struct {
		name      string
		pkt       []byte
		typ, code uint8
		rest      uint32
		reason    stats.Reason
	}{
		{"ttl-exceeded-v4", udp4(ipA, remote, 1, 10, false), hdr.ICMPv4TimeExceeded, 0, 0, stats.ReasonTTLExceeded},
		{"hop-limit-exceeded-v6", udp6(ip6A, remote6, 1, 10), hdr.ICMPv6TimeExceeded, 0, 0, stats.ReasonTTLExceeded},
		{"no-route-v4", udp4(ipA, netip.MustParseAddr("100.64.0.1"), 64, 10, false), hdr.ICMPv4Unreachable, 0, 0, stats.ReasonNoRoute},
		{"no-route-v6", udp6(ip6A, netip.MustParseAddr("2001:db8:ffff::1"), 64, 10), hdr.ICMPv6Unreachable, 0, 0, stats.ReasonNoRoute},
		{"frag-needed-v4", big4, hdr.ICMPv4Unreachable, hdr.ICMPv4CodeFragNeeded, 1500, stats.ReasonFragNeeded},
		{"packet-too-big-v6", udp6(ip6A, remote6, 64, 1600), hdr.ICMPv6PacketTooBig, 0, 1500, stats.ReasonFragNeeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, noHost())
			r.a.push(t, eth(r.a.mac, macA, tc.pkt))
			r.step()
			if got := r.b.take(); len(got) != 0 {
				t.Fatalf("packet was forwarded")
			}
			m := icmpOf(t, one(t, r.a, macA), tc.pkt, tc.typ, tc.code)
			if tc.rest != 0 && m.Rest() != tc.rest {
				t.Fatalf("rest of header %d, want %d", m.Rest(), tc.rest)
			}
			if r.drops(tc.reason) != 1 {
				t.Fatalf("drop %s not counted", tc.reason)
			}
		})
	}
}

func TestNoICMPErrorAboutICMPErrors(t *testing.T) {
	r := newRig(t, noHost())
	p := echo4(ipA, remote)
	m := hdr.ICMP(p[20:])
	m.SetTypeCode(hdr.ICMPv4Unreachable, 1)
	m.SetChecksum(0)
	m.SetChecksum(m.CalcChecksum(0))
	ip := hdr.IPv4(p)
	ip.SetTTL(1)
	ip.UpdateChecksum()
	r.a.push(t, eth(r.a.mac, macA, p))
	r.step()
	if got := r.a.take(); len(got) != 0 {
		t.Fatal("ICMP error sent about an ICMP error")
	}
	if r.drops(stats.ReasonICMPNotAllowed) != 1 || r.drops(stats.ReasonTTLExceeded) != 1 {
		t.Fatal("drops not counted")
	}
}

func TestICMPRateLimit(t *testing.T) {
	r := newRig(t, noHost())
	for range 200 {
		r.a.push(t, eth(r.a.mac, macA, udp4(ipA, remote, 1, 10, false)))
	}
	r.step()
	sent := len(r.a.take())
	if sent == 0 || sent >= 200 {
		t.Fatalf("rate limiter let %d of 200 errors out", sent)
	}
	if r.drops(stats.ReasonICMPRateLimited) != uint64(200-sent) {
		t.Fatalf("rate-limited drops %d, want %d", r.drops(stats.ReasonICMPRateLimited), 200-sent)
	}
}

func TestFragmentIPv4(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: 0xff, mtuB: 576})
	in := udp4(ipA, remote, 64, 1400, false)
	r.a.push(t, eth(r.a.mac, macA, in))
	r.step()
	frames := r.b.take()
	if len(frames) != 3 {
		t.Fatalf("got %d fragments, want 3", len(frames))
	}
	payload := []byte{}
	for i, f := range frames {
		ip := hdr.IPv4(f[14:])
		if !ip.IsValid(len(f)-14) || !ip.ChecksumValid() || len(f)-14 > 576 {
			t.Fatalf("fragment %d invalid", i)
		}
		if ip.FragOffset() != len(payload) || (i < 2) != (ip.FlagsFrag()&hdr.IPv4FlagMF != 0) || ip.ID() != 0x1234 {
			t.Fatalf("fragment %d: offset %d flags %x", i, ip.FragOffset(), ip.FlagsFrag())
		}
		payload = append(payload, ip.Payload()...)
	}
	if !bytes.Equal(payload, in[20:]) {
		t.Fatal("fragments do not reassemble to the original")
	}
}

func TestFragmentIPv6LocallyOriginated(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: 0xff, mtuB: 1280})
	c := r.e.cores[0]
	b := r.pool.Get()
	in := udp6(rtr6B.Addr(), remote6, 64, 2100)
	if !b.SetBytes(in) {
		t.Fatal("packet too big for a buffer")
	}
	c.t = r.e.tables.Load()
	c.ctx.Inject(b)
	r.step()
	frames := r.b.take()
	if len(frames) != 2 {
		t.Fatalf("got %d fragments, want 2", len(frames))
	}
	var payload []byte
	for i, f := range frames {
		ip := hdr.IPv6(f[14:])
		if !ip.IsValid(len(f)-14) || ip.NextHeader() != hdr.ProtoFragment || len(f)-14 > 1280 {
			t.Fatalf("fragment %d invalid", i)
		}
		fh := f[14+40:]
		off := int(fh[2])<<8 | int(fh[3]&0xf8)
		if off != len(payload) || fh[0] != hdr.ProtoUDP || (fh[3]&1 == 1) != (i < 1) {
			t.Fatalf("fragment %d: offset %d header %x", i, off, fh[:8])
		}
		payload = append(payload, f[14+48:]...)
	}
	if !bytes.Equal(payload, in[40:]) {
		t.Fatal("fragments do not reassemble to the original")
	}
}

func TestARP(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: 0xff, noNeighbors: true})
	// A request for the router's address is answered and the sender learned.
	r.a.push(t, arpFrame(hdr.ARPRequest, hdr.Broadcast, macA, ipA, [6]byte{}, rtrA.Addr()))
	// A request for someone else is ignored.
	r.a.push(t, arpFrame(hdr.ARPRequest, hdr.Broadcast, macA, ipA, [6]byte{}, netip.MustParseAddr("192.0.2.99")))
	r.step()
	got := r.a.take()
	if len(got) != 1 {
		t.Fatalf("%d ARP replies, want 1", len(got))
	}
	a := hdr.ARP(got[0][14:])
	if !a.IsValid(len(got[0])-14) || a.Op() != hdr.ARPReply || a.SHA() != r.a.mac ||
		netip.AddrFrom4(a.SPA()) != rtrA.Addr() || a.THA() != macA || netip.AddrFrom4(a.TPA()) != ipA {
		t.Fatalf("bad ARP reply %x", got[0])
	}
	if hdr.Ethernet(got[0]).Dst() != macA {
		t.Fatal("reply not unicast to the requester")
	}
	if mac, ok := r.e.Neighbor(ipA, 0); !ok || mac != macA {
		t.Fatal("requester not learned")
	}
	if r.drops(stats.ReasonARPIgnored) != 1 {
		t.Fatal("ignored request not counted")
	}

	// Forwarding to an unknown next hop asks with ARP, holds the packet,
	// and sends it when the reply comes.
	in := udp4(ipA, remote, 64, 20, false)
	r.a.push(t, eth(r.a.mac, macA, in))
	r.step()
	req := r.b.take()
	if len(req) != 1 || hdr.Ethernet(req[0]).EtherType() != hdr.EtherTypeARP {
		t.Fatalf("want one ARP request on b, got %d frames", len(req))
	}
	q := hdr.ARP(req[0][14:])
	if q.Op() != hdr.ARPRequest || netip.AddrFrom4(q.TPA()) != ipB || netip.AddrFrom4(q.SPA()) != rtrB.Addr() {
		t.Fatalf("bad ARP request %x", req[0])
	}
	r.b.push(t, arpFrame(hdr.ARPReply, r.b.mac, macB, ipB, r.b.mac, rtrB.Addr()))
	r.step()
	out := one(t, r.b, macB)
	if hdr.IPv4(out).TTL() != 63 {
		t.Fatal("held packet not forwarded")
	}
}

func TestNeighborTimeout(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: 0xff, noNeighbors: true})
	r.e.cfg.NeighborTimeout = 1
	r.a.push(t, eth(r.a.mac, macA, udp4(ipA, remote, 64, 20, false)))
	r.step()
	if r.drops(stats.ReasonNoNeighbor) != 1 {
		t.Fatal("unresolved packet not dropped after the timeout")
	}
}

func TestNDP(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: 0xff, noNeighbors: true})
	r.a.push(t, nsFrame(macA, ip6A, rtr6A.Addr()))
	r.step()
	out := one(t, r.a, macA)
	ip := hdr.IPv6(out)
	nd := hdr.ND(out[40:])
	if ip.HopLimit() != 255 || netip.AddrFrom16(ip.Src()) != rtr6A.Addr() || netip.AddrFrom16(ip.Dst()) != ip6A ||
		out[40] != hdr.ICMPv6NeighborAdvert || nd.Flags()&hdr.NAFlagSolicited == 0 || nd.Flags()&hdr.NAFlagRouter == 0 {
		t.Fatalf("bad neighbour advertisement %x", out)
	}
	if !hdr.ICMP(out[40:]).ChecksumValid(ip.PseudoSum(hdr.ProtoICMPv6, len(out)-40)) {
		t.Fatal("bad NA checksum")
	}
	if mac, ok := nd.LinkAddr(hdr.NDOptTargetLLA); !ok || mac != r.a.mac {
		t.Fatal("NA lacks our link-layer address")
	}
	if mac, ok := r.e.Neighbor(ip6A, 0); !ok || mac != macA {
		t.Fatal("solicitor not learned")
	}

	// Resolution of a next hop on b.
	r.a.push(t, eth(r.a.mac, macA, udp6(ip6A, remote6, 64, 20)))
	r.step()
	ns := r.b.take()
	if len(ns) != 1 {
		t.Fatalf("want one NS, got %d", len(ns))
	}
	target := ip6B.As16()
	if hdr.Ethernet(ns[0]).Dst() != hdr.MulticastMAC6(ptr(hdr.SolicitedNode(&target))) || ns[0][14+40] != hdr.ICMPv6NeighborSolicit {
		t.Fatalf("bad NS %x", ns[0])
	}
	r.b.push(t, naFrame(r.b.mac, macB, ip6B, rtr6B.Addr()))
	r.step()
	if out := one(t, r.b, macB); hdr.IPv6(out).HopLimit() != 63 {
		t.Fatal("held packet not forwarded")
	}
}

func ptr[T any](v T) *T { return &v }

func TestEchoAnsweredWithoutHostPath(t *testing.T) {
	r := newRig(t, noHost())
	r.a.push(t, eth(r.a.mac, macA, echo4(ipA, rtrA.Addr())))
	r.a.push(t, eth(r.a.mac, macA, echo6(ip6A, rtr6A.Addr())))
	r.step()
	got := r.a.take()
	if len(got) != 2 {
		t.Fatalf("%d replies, want 2", len(got))
	}
	v4 := hdr.IPv4(got[0][14:])
	if !v4.ChecksumValid() || v4.Dst() != ipA.As4() || got[0][14+20] != hdr.ICMPv4EchoReply ||
		!hdr.ICMP(got[0][34:]).ChecksumValid(0) {
		t.Fatalf("bad echo reply %x", got[0])
	}
	v6 := hdr.IPv6(got[1][14:])
	if got[1][14+40] != hdr.ICMPv6EchoReply || !hdr.ICMP(got[1][54:]).ChecksumValid(v6.PseudoSum(hdr.ProtoICMPv6, len(got[1])-54)) {
		t.Fatalf("bad echo6 reply %x", got[1])
	}
}

func TestHostPath(t *testing.T) {
	for _, link := range []pkt.LinkType{pkt.LinkRawIP, pkt.LinkEthernet} {
		t.Run(link.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{hostPath: link})
			ike := udp4(ipB, rtrB.Addr(), 64, 40, false)
			r.b.push(t, eth(r.b.mac, macB, ike))
			r.b.push(t, eth(r.b.mac, macB, echo6(ip6B, rtr6B.Addr())))
			r.step()
			got := r.host.take()
			if len(got) != 2 {
				t.Fatalf("host path got %d packets, want 2", len(got))
			}
			first := got[0]
			if link == pkt.LinkEthernet {
				first = first[14:]
			}
			if !bytes.Equal(first, ike) {
				t.Fatal("local packet changed on the way to the host (TTL must not be decremented)")
			}
			// What the host sends is routed out, TTL untouched.
			reply := udp4(rtrB.Addr(), ipB, 64, 40, false)
			if link == pkt.LinkEthernet {
				r.host.push(t, eth(r.host.mac, [6]byte{2, 9, 9, 9, 9, 9}, reply))
			} else {
				r.host.push(t, reply)
			}
			r.step()
			if out := one(t, r.b, macB); !bytes.Equal(out, reply) {
				t.Fatalf("host packet not routed unchanged")
			}
		})
	}
}

func TestHostPathProxiesARP(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: pkt.LinkEthernet})
	hostMAC := [6]byte{2, 9, 9, 9, 9, 9}
	r.host.push(t, arpFrame(hdr.ARPRequest, hdr.Broadcast, hostMAC, rtrB.Addr(), [6]byte{}, ipB))
	r.step()
	got := r.host.take()
	if len(got) != 1 || hdr.ARP(got[0][14:]).Op() != hdr.ARPReply || hdr.ARP(got[0][14:]).SHA() != r.host.mac {
		t.Fatalf("host-path ARP not proxied: %d frames", len(got))
	}
}

func TestBadInputIsDroppedAndCounted(t *testing.T) {
	good := udp4(ipA, remote, 64, 20, false)
	badSum := append([]byte(nil), good...)
	badSum[10] ^= 0xff
	shortTotal := append([]byte(nil), good...)
	hdr.IPv4(shortTotal).SetTotalLen(len(good) + 10)
	hdr.IPv4(shortTotal).UpdateChecksum()
	badIHL := append([]byte(nil), good...)
	badIHL[0] = 0x44
	lsrr := make([]byte, 24+8)
	copy(lsrr, good[:20])
	hdr.IPv4(lsrr).SetVersionIHL(24)
	hdr.IPv4(lsrr).SetTotalLen(32)
	lsrr[20], lsrr[21], lsrr[22], lsrr[23] = hdr.IPv4OptLSRR, 3, 4, 0
	hdr.IPv4(lsrr).UpdateChecksum()
	martian := udp4(netip.MustParseAddr("127.0.0.1"), remote, 64, 20, false)
	v6short := udp6(ip6A, remote6, 64, 20)[:30]
	v6badext := udp6(ip6A, remote6, 64, 20)
	v6badext[6] = hdr.ProtoRouting
	v6badext[41] = 200 // extension length past the packet
	other := eth(r0(), macA, good)
	hdr.Ethernet(other).SetDst([6]byte{2, 7, 7, 7, 7, 7})
	vlan := append(eth(r0(), macA, good)[:12], append([]byte{0x81, 0x00, 0x00, 0x05}, eth(r0(), macA, good)[12:]...)...)
	cases := []struct {
		name   string
		frame  []byte
		reason stats.Reason
	}{
		{"runt", []byte{1, 2, 3}, stats.ReasonRuntFrame},
		{"ethertype", append(eth(r0(), macA, good)[:12], 0x88, 0xcc, 1, 2), stats.ReasonBadEtherType},
		{"not-for-us", other, stats.ReasonNotForUs},
		{"vlan", vlan, stats.ReasonVLANUnsupported},
		{"truncated", eth(r0(), macA, good[:10]), stats.ReasonIPTruncated},
		{"checksum", eth(r0(), macA, badSum), stats.ReasonIPBadChecksum},
		{"total-length", eth(r0(), macA, shortTotal), stats.ReasonIPBadLength},
		{"header-length", eth(r0(), macA, badIHL), stats.ReasonIPBadHeaderLen},
		{"version", eth(r0(), macA, append([]byte{0x50}, good[1:]...)), stats.ReasonIPBadVersion},
		{"source-route", eth(r0(), macA, lsrr), stats.ReasonIPOptions},
		{"martian-source", eth(r0(), macA, martian), stats.ReasonIPBadSource},
		{"v6-truncated", eth(r0(), macA, v6short), stats.ReasonIPTruncated},
		{"v6-bad-ext", eth(r0(), macA, v6badext), stats.ReasonIPv6BadExtHdr},
		{"arp-garbage", append(arpFrame(1, hdr.Broadcast, macA, ipA, [6]byte{}, ipB)[:14], 9, 9, 9), stats.ReasonARPMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, noHost())
			r.a.push(t, tc.frame)
			r.step()
			if got := len(r.a.take()) + len(r.b.take()); got != 0 {
				t.Fatalf("%d frames sent for bad input", got)
			}
			if r.drops(tc.reason) != 1 {
				t.Fatalf("reason %s not counted: %v", tc.reason, r.e.Total().Drops)
			}
			if free := r.pool.Available() + r.e.cores[0].cache.Len(); free != r.pool.Total() {
				t.Fatalf("buffer leaked: %d of %d free", free, r.pool.Total())
			}
		})
	}
}

// r0 is the MAC of rig port a (frames addressed to the router).
func r0() [6]byte { return [6]byte{0x02, 0, 0, 0, 0, 0x01} }

// FuzzIngress feeds arbitrary frames to the router from both an Ethernet
// and a raw-IP port: nothing may panic and no buffer may leak.
func FuzzIngress(f *testing.F) {
	f.Add(eth(r0(), macA, udp4(ipA, remote, 64, 20, false)), false)
	f.Add(eth(r0(), macA, udp6(ip6A, remote6, 2, 20)), false)
	f.Add(nsFrame(macA, ip6A, rtr6A.Addr()), false)
	f.Add(arpFrame(hdr.ARPRequest, hdr.Broadcast, macA, ipA, [6]byte{}, rtrA.Addr()), false)
	f.Add(udp4(ipA, rtrA.Addr(), 1, 1400, true), true)
	f.Add(echo6(ip6A, rtr6A.Addr()), true)
	f.Fuzz(func(t *testing.T, frame []byte, raw bool) {
		if len(frame) > 2000 {
			return
		}
		r := newRig(t, rigOpt{hostPath: pkt.LinkEthernet, noNeighbors: raw})
		p := r.a
		if raw {
			p = r.host // the host-path port; make it raw for this run
			p.link = pkt.LinkRawIP
			r.e.tables.Store(buildTables(&r.e.cfg))
		}
		p.push(t, frame)
		r.step()
		r.a.take()
		r.b.take()
		r.host.take()
		c := r.e.cores[0]
		c.shutdown()
		if free := r.pool.Available(); free != r.pool.Total() {
			t.Fatalf("buffer leaked: %d of %d free", free, r.pool.Total())
		}
	})
}

// frag4 splits an IPv4 packet into two fragments at byte off of its payload.
func frag4(p []byte, off int) ([]byte, []byte) {
	h := append([]byte(nil), p[:20]...)
	a := append(append([]byte(nil), h...), p[20:20+off]...)
	b := append(append([]byte(nil), h...), p[20+off:]...)
	hdr.IPv4(a).SetTotalLen(len(a))
	hdr.IPv4(a).SetFlagsFrag(hdr.IPv4FlagMF)
	hdr.IPv4(a).UpdateChecksum()
	hdr.IPv4(b).SetTotalLen(len(b))
	hdr.IPv4(b).SetFlagsFrag(uint16(off / 8))
	hdr.IPv4(b).UpdateChecksum()
	return a, b
}

func TestFragmentsForTheRouterAreReassembled(t *testing.T) {
	r := newRig(t, rigOpt{hostPath: pkt.LinkRawIP})
	whole := udp4(ipA, rtrA.Addr(), 64, 1800, false)
	a, b := frag4(whole, 1200)
	r.a.push(t, eth(r.a.mac, macA, b)) // out of order
	r.a.push(t, eth(r.a.mac, macA, a))
	// A fragment passing through is forwarded as it is.
	fa, _ := frag4(udp4(ipA, remote, 64, 1800, false), 1200)
	r.a.push(t, eth(r.a.mac, macA, fa))
	r.step()
	got := r.host.take()
	if len(got) != 1 || !bytes.Equal(got[0], whole) {
		t.Fatalf("host path got %d packets, want the reassembled datagram", len(got))
	}
	if out := one(t, r.b, macB); len(out) != len(fa) {
		t.Fatal("transit fragment not forwarded as is")
	}
}
