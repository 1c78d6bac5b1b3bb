package ipcomp

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/internal/xformtest"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

type saOpts struct {
	tunnel, v6, raw bool
	spi             uint32
}

// newSA makes an IPComp SA (the same config serves both ends).
func newSA(t testing.TB, o saOpts) *sad.SA {
	t.Helper()
	cfg := sad.Config{SPI: o.spi, Proto: sad.ProtoIPComp, Mode: sad.ModeTransport, Comp: CPIDeflate, RawCPI: o.raw, ReqID: 3}
	if cfg.SPI == 0 {
		cfg.SPI = 0x5000
	}
	if o.tunnel {
		cfg.Mode = sad.ModeTunnel
	}
	src, dst := "192.0.2.1", "198.51.100.2"
	if o.v6 {
		src, dst = "2001:db8::1", "2001:db8:ffff::2"
	}
	cfg.Src, cfg.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	sa, err := sad.New(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// payload makes n bytes: compressible text or random bytes.
func payload(n int, random bool, seed uint64) []byte {
	p := make([]byte, n)
	if random {
		r := rand.New(rand.NewPCG(seed, 1))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		return p
	}
	const text = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n"
	for i := range p {
		p[i] = text[i%len(text)]
	}
	return p
}

// udp4 and udp6 build UDP packets carrying pay.
func udp4(src, dst string, tos uint8, pay []byte) []byte {
	p := make([]byte, 28+len(pay))
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTOS(tos)
	ip.SetTotalLen(len(p))
	ip.SetID(0x4321)
	ip.SetTTL(64)
	ip.SetProtocol(hdr.ProtoUDP)
	ip.SetSrc(netip.MustParseAddr(src).As4())
	ip.SetDst(netip.MustParseAddr(dst).As4())
	ip.UpdateChecksum()
	u := hdr.UDP(p[20:])
	u.SetSrcPort(1000)
	u.SetDstPort(2000)
	u.SetLength(8 + len(pay))
	copy(p[28:], pay)
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, 8+len(pay))))
	return p
}

func udp6(src, dst string, tc uint8, pay []byte, ext bool) []byte {
	hl := 40
	if ext {
		hl += 8
	}
	p := make([]byte, hl+8+len(pay))
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(tc, 0x54321)
	ip.SetPayloadLen(len(p) - 40)
	ip.SetNextHeader(hdr.ProtoUDP)
	ip.SetHopLimit(64)
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	if ext {
		ip.SetNextHeader(hdr.ProtoHopByHop)
		copy(p[40:48], []byte{hdr.ProtoUDP, 0, 1, 4, 0, 0, 0, 0})
	}
	u := hdr.UDP(p[hl:])
	u.SetSrcPort(1000)
	u.SetDstPort(2000)
	u.SetLength(8 + len(pay))
	copy(p[hl+8:], pay)
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, 8+len(pay))))
	return p
}

// Shared with the other transforms' tests (ipsec/internal/xformtest).
var (
	testPool = xformtest.Pool
	buf      = xformtest.Buf
	classify = xformtest.Classify
	wire     = xformtest.Wire
)

func encap1(p *Processor, b *pkt.Buf, sa *sad.SA, opt Options) stats.Reason {
	res := []stats.Reason{99}
	p.Encap([]*pkt.Buf{b}, []*sad.SA{sa}, res, opt)
	return res[0]
}

func decap1(p *Processor, b *pkt.Buf, sa *sad.SA, opt Options) stats.Reason {
	res := []stats.Reason{99}
	p.Decap([]*pkt.Buf{b}, []*sad.SA{sa}, res, opt)
	return res[0]
}

var defaults = Options{MinLen: DefaultMinLen}

// compressors are the two encoders net.inet.ipcomp.ipcomp_fast selects.
var compressors = []struct {
	name string
	opt  Options
}{{"dynamic", defaults}, {"fast", Options{MinLen: DefaultMinLen, Fast: true}}}
