package engine

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// fakePort is an in-memory port for engine tests: frames pushed with
// inject come out of RxBurst; transmitted frames are copied into sent.
type fakePort struct {
	name  string
	mac   [6]byte
	link  pkt.LinkType
	mtu   int
	pool  *pkt.Pool
	mu    sync.Mutex
	rx    []*pkt.Buf
	sent  [][]byte
	keep  bool // keep transmitted Bufs' bytes (copy) — always true
	done  bool // finite: RxDone once rx is empty
	st    stats.Port
	noCpy bool // benchmark mode: free without copying
}

func newFakePort(name string, mac byte, link pkt.LinkType, pool *pkt.Pool) *fakePort {
	return &fakePort{name: name, mac: [6]byte{0x02, 0, 0, 0, 0, mac}, link: link, mtu: 1500, pool: pool}
}

func (p *fakePort) Name() string           { return p.name }
func (p *fakePort) LinkType() pkt.LinkType { return p.link }
func (p *fakePort) MAC() [6]byte {
	if p.link != pkt.LinkEthernet {
		return [6]byte{}
	}
	return p.mac
}
func (p *fakePort) MTU() int      { return p.mtu }
func (p *fakePort) RxQueues() int { return 1 }
func (p *fakePort) TxQueues() int { return 1 }
func (p *fakePort) RxBurst(q int, bufs []*pkt.Buf) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := copy(bufs, p.rx)
	p.rx = append(p.rx[:0], p.rx[n:]...)
	return n
}
func (p *fakePort) TxBurst(q int, bufs []*pkt.Buf) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range bufs {
		if !p.noCpy {
			p.sent = append(p.sent, append([]byte(nil), b.Bytes()...))
		}
		b.Free()
	}
	return len(bufs)
}
func (p *fakePort) Stats() stats.PortSnapshot { return p.st.Snapshot() }
func (p *fakePort) Close() error              { return nil }
func (p *fakePort) RxDone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done && len(p.rx) == 0
}

// push queues a frame for reception.
func (p *fakePort) push(t testing.TB, frame []byte) {
	t.Helper()
	b := p.pool.Get()
	if b == nil || !b.SetBytes(frame) {
		t.Fatal("fake port: no buffer")
	}
	p.mu.Lock()
	p.rx = append(p.rx, b)
	p.mu.Unlock()
}

// take returns and clears the frames sent so far.
func (p *fakePort) take() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sent
	p.sent = nil
	return s
}

// --- packet builders ---

var (
	macA    = [6]byte{0x02, 0, 0, 0, 0, 0xa1} // host on port a
	macB    = [6]byte{0x02, 0, 0, 0, 0, 0xb1} // host on port b
	ipA     = netip.MustParseAddr("192.0.2.10")
	ipB     = netip.MustParseAddr("198.51.100.20")
	ip6A    = netip.MustParseAddr("2001:db8:a::10")
	ip6B    = netip.MustParseAddr("2001:db8:b::20")
	rtrA    = netip.MustParsePrefix("192.0.2.1/24")
	rtrB    = netip.MustParsePrefix("198.51.100.1/24")
	rtr6A   = netip.MustParsePrefix("2001:db8:a::1/64")
	rtr6B   = netip.MustParsePrefix("2001:db8:b::1/64")
	remote  = netip.MustParseAddr("203.0.113.7")   // behind a gateway on b
	remote6 = netip.MustParseAddr("2001:db8:c::7") // behind a gateway on b
)

// udp4 builds an IPv4/UDP packet with payload of n bytes.
func udp4(src, dst netip.Addr, ttl uint8, n int, df bool) []byte {
	p := make([]byte, hdr.IPv4MinLen+hdr.UDPLen+n)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTotalLen(len(p))
	ip.SetID(0x1234)
	if df {
		ip.SetFlagsFrag(hdr.IPv4FlagDF)
	}
	ip.SetTTL(ttl)
	ip.SetProtocol(hdr.ProtoUDP)
	ip.SetSrc(src.As4())
	ip.SetDst(dst.As4())
	ip.UpdateChecksum()
	u := hdr.UDP(p[20:])
	u.SetSrcPort(40000)
	u.SetDstPort(9)
	u.SetLength(hdr.UDPLen + n)
	for i := range n {
		p[28+i] = byte(i)
	}
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, hdr.UDPLen+n)))
	return p
}

// udp6 builds an IPv6/UDP packet with payload of n bytes.
func udp6(src, dst netip.Addr, hop uint8, n int) []byte {
	p := make([]byte, hdr.IPv6Len+hdr.UDPLen+n)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0x12345)
	ip.SetPayloadLen(hdr.UDPLen + n)
	ip.SetNextHeader(hdr.ProtoUDP)
	ip.SetHopLimit(hop)
	s, d := src.As16(), dst.As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	u := hdr.UDP(p[40:])
	u.SetSrcPort(40000)
	u.SetDstPort(9)
	u.SetLength(hdr.UDPLen + n)
	for i := range n {
		p[48+i] = byte(i)
	}
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, hdr.UDPLen+n)))
	return p
}

// echo4 builds an ICMP echo request.
func echo4(src, dst netip.Addr) []byte {
	p := make([]byte, 20+8+16)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTotalLen(len(p))
	ip.SetTTL(64)
	ip.SetProtocol(hdr.ProtoICMP)
	ip.SetSrc(src.As4())
	ip.SetDst(dst.As4())
	ip.UpdateChecksum()
	m := hdr.ICMP(p[20:])
	m.SetTypeCode(hdr.ICMPv4EchoRequest, 0)
	m.SetRest(0x00070001)
	m.SetChecksum(m.CalcChecksum(0))
	return p
}

// echo6 builds an ICMPv6 echo request.
func echo6(src, dst netip.Addr) []byte {
	p := make([]byte, 40+8+16)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(len(p) - 40)
	ip.SetNextHeader(hdr.ProtoICMPv6)
	ip.SetHopLimit(64)
	s, d := src.As16(), dst.As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	m := hdr.ICMP(p[40:])
	m.SetTypeCode(hdr.ICMPv6EchoRequest, 0)
	m.SetRest(0x00070001)
	m.SetChecksum(m.CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
	return p
}

// eth wraps an IP packet in an Ethernet header.
func eth(dst, src [6]byte, ipPkt []byte) []byte {
	f := make([]byte, 14+len(ipPkt))
	e := hdr.Ethernet(f)
	e.SetDst(dst)
	e.SetSrc(src)
	if ipPkt[0]>>4 == 4 {
		e.SetEtherType(hdr.EtherTypeIPv4)
	} else {
		e.SetEtherType(hdr.EtherTypeIPv6)
	}
	copy(f[14:], ipPkt)
	return f
}

// arpFrame builds an ARP request or reply frame.
func arpFrame(op uint16, dstMAC, sha [6]byte, spa netip.Addr, tha [6]byte, tpa netip.Addr) []byte {
	f := make([]byte, 14+28)
	e := hdr.Ethernet(f)
	e.SetDst(dstMAC)
	e.SetSrc(sha)
	e.SetEtherType(hdr.EtherTypeARP)
	hdr.ARP(f[14:]).Set(op, sha, spa.As4(), tha, tpa.As4())
	return f
}

// nsFrame builds a neighbour solicitation for target from src/srcMAC.
func nsFrame(srcMAC [6]byte, src, target netip.Addr) []byte {
	t16 := target.As16()
	dst := hdr.SolicitedNode(&t16)
	p := make([]byte, 40+24+8)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(32)
	ip.SetNextHeader(hdr.ProtoICMPv6)
	ip.SetHopLimit(255)
	s := src.As16()
	ip.SetSrc(&s)
	ip.SetDst(&dst)
	m := p[40:]
	m[0] = hdr.ICMPv6NeighborSolicit
	copy(m[8:24], t16[:])
	m[24], m[25] = hdr.NDOptSourceLLA, 1
	copy(m[26:32], srcMAC[:])
	binary.BigEndian.PutUint16(m[2:], hdr.ICMP(m).CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
	return eth(hdr.MulticastMAC6(&dst), srcMAC, p)
}

// naFrame builds a solicited neighbour advertisement from target.
func naFrame(dstMAC, srcMAC [6]byte, target, dst netip.Addr) []byte {
	p := make([]byte, 40+24+8)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(0, 0)
	ip.SetPayloadLen(32)
	ip.SetNextHeader(hdr.ProtoICMPv6)
	ip.SetHopLimit(255)
	s, d := target.As16(), dst.As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	m := p[40:]
	m[0] = hdr.ICMPv6NeighborAdvert
	m[4] = hdr.NAFlagSolicited | hdr.NAFlagOverride
	copy(m[8:24], s[:])
	m[24], m[25] = hdr.NDOptTargetLLA, 1
	copy(m[26:32], srcMAC[:])
	binary.BigEndian.PutUint16(m[2:], hdr.ICMP(m).CalcChecksum(ip.PseudoSum(hdr.ProtoICMPv6, len(m))))
	return eth(dstMAC, srcMAC, p)
}
