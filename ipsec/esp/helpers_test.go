package esp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/internal/xformtest"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// suite is one enc x auth combination with keys.
type suite struct {
	enc     alg.EncID
	auth    alg.AuthID
	encKey  []byte
	authKey []byte
}

func (s suite) String() string { return s.enc.String() + "+" + s.auth.String() }

// keyOf makes a deterministic key of the smallest size d accepts (at least
// minBits), patterned so that different algorithms get different keys.
func keyOf(bits int, seed byte) []byte {
	k := make([]byte, bits/8)
	for i := range k {
		k[i] = seed + byte(i*7)
	}
	return k
}

func minBits(k alg.KeySizes) int {
	if k.Allowed != nil {
		return k.Allowed[0]
	}
	if k.Min == 0 {
		return 128 // NULL takes any key; give it none below
	}
	return k.Min
}

// allSuites lists every enc x auth combination alg supports.
func allSuites() []suite {
	var out []suite
	for _, e := range alg.Encs() {
		ek := keyOf(minBits(e.Key), byte(e.ID)*16)
		if e.ID == alg.EncNull {
			ek = nil
		}
		if e.AEAD {
			out = append(out, suite{enc: e.ID, auth: alg.AuthNull, encKey: ek})
			continue
		}
		for _, a := range alg.Auths() {
			if e.ID == alg.EncNull && a.ID == alg.AuthNull {
				continue
			}
			var ak []byte
			if a.ID != alg.AuthNull {
				ak = keyOf(minBits(a.Key), 0x80+byte(a.ID))
			}
			out = append(out, suite{enc: e.ID, auth: a.ID, encKey: ek, authKey: ak})
		}
	}
	return out
}

func suiteByName(t testing.TB, enc, auth string) suite {
	e, ok := alg.EncByName(enc)
	if !ok {
		t.Fatalf("no enc %s", enc)
	}
	a, ok := alg.AuthByName(auth)
	if !ok {
		t.Fatalf("no auth %s", auth)
	}
	s := suite{enc: e.ID, auth: a.ID}
	if e.ID != alg.EncNull {
		s.encKey = keyOf(minBits(e.Key), 0x11)
	}
	if a.ID != alg.AuthNull {
		s.authKey = keyOf(minBits(a.Key), 0x22)
	}
	return s
}

// saOpts describe an SA apart from its algorithms.
type saOpts struct {
	tunnel   bool
	v6       bool // outer family (tunnel) / SA addresses
	natt     bool
	esn      bool
	window   uint32
	tfc      int
	spi      uint32
	src, dst string
}

// pair makes the outbound and inbound copies of one SA (two ends).
func pair(t testing.TB, s suite, o saOpts) (out, in *sad.SA) {
	t.Helper()
	cfg := sad.Config{SPI: o.spi, Proto: sad.ProtoESP, Mode: sad.ModeTransport,
		Enc: s.enc, EncKey: s.encKey, Auth: s.auth, AuthKey: s.authKey,
		ReplayWindow: o.window, ESN: o.esn, TFCPad: o.tfc, ReqID: 7}
	if cfg.SPI == 0 {
		cfg.SPI = 0x1000
	}
	if o.tunnel {
		cfg.Mode = sad.ModeTunnel
	}
	src, dst := "192.0.2.1", "198.51.100.2"
	if o.v6 {
		src, dst = "2001:db8::1", "2001:db8:ffff::2"
	}
	if o.src != "" {
		src, dst = o.src, o.dst
	}
	cfg.Src, cfg.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	if o.natt {
		cfg.NATT, cfg.NATTSport, cfg.NATTDport = true, 4500, 4500
	}
	var err error
	if out, err = sad.New(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if in, err = sad.New(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	return out, in
}

// ---- packets ----

// udp4 builds an IPv4/UDP packet with n payload bytes.
func udp4(src, dst string, tos uint8, df bool, n int) []byte {
	p := make([]byte, 20+8+n)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTOS(tos)
	ip.SetTotalLen(len(p))
	ip.SetID(0x1234)
	if df {
		ip.SetFlagsFrag(hdr.IPv4FlagDF)
	}
	ip.SetTTL(63)
	ip.SetProtocol(hdr.ProtoUDP)
	ip.SetSrc(netip.MustParseAddr(src).As4())
	ip.SetDst(netip.MustParseAddr(dst).As4())
	ip.UpdateChecksum()
	fillUDP(p[20:], n)
	u := hdr.UDP(p[20:])
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, 8+n)))
	return p
}

// udp6 builds an IPv6/UDP packet with n payload bytes.
func udp6(src, dst string, tc uint8, n int) []byte {
	p := make([]byte, 40+8+n)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(tc, 0x12345)
	ip.SetPayloadLen(8 + n)
	ip.SetNextHeader(hdr.ProtoUDP)
	ip.SetHopLimit(63)
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	fillUDP(p[40:], n)
	u := hdr.UDP(p[40:])
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, 8+n)))
	return p
}

// tcp4 builds an IPv4/TCP packet with n payload bytes and options in the
// IP header when opts.
func tcp4(src, dst string, n int, opts bool) []byte {
	hl := 20
	if opts {
		hl = 24
	}
	p := make([]byte, hl+20+n)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(hl)
	ip.SetTotalLen(len(p))
	ip.SetTTL(9)
	ip.SetProtocol(hdr.ProtoTCP)
	ip.SetSrc(netip.MustParseAddr(src).As4())
	ip.SetDst(netip.MustParseAddr(dst).As4())
	if opts {
		copy(p[20:24], []byte{hdr.IPv4OptNOP, hdr.IPv4OptNOP, hdr.IPv4OptNOP, hdr.IPv4OptEnd})
	}
	ip.UpdateChecksum()
	t := p[hl:]
	t[12] = 5 << 4
	t[13] = 0x18
	for i := range n {
		t[20+i] = byte(i)
	}
	hdr.TCP(t).SetChecksum(hdr.Checksum(t, ip.PseudoSum(hdr.ProtoTCP, len(t))))
	return p
}

// withExt6 inserts a hop-by-hop and a destination-options header (the
// latter after where transport ESP goes) into an IPv6 UDP packet.
func withExt6(p []byte) []byte {
	ip := hdr.IPv6(p)
	out := make([]byte, 0, len(p)+16)
	out = append(out, p[:40]...)
	out = append(out, hdr.ProtoDstOpts, 0, 1, 4, 0, 0, 0, 0) // hop-by-hop: PadN
	out = append(out, hdr.ProtoUDP, 0, 1, 4, 0, 0, 0, 0)     // dst opts: PadN
	out = append(out, p[40:]...)
	o := hdr.IPv6(out)
	o.SetNextHeader(hdr.ProtoHopByHop)
	o.SetPayloadLen(ip.PayloadLen() + 16)
	return out
}

// encap1 and decap1 run one packet through a fresh processor.
func encap1(t testing.TB, p *Processor, b *pkt.Buf, sa *sad.SA, opt Options) stats.Reason {
	t.Helper()
	res := []stats.Reason{99}
	p.Encap([]*pkt.Buf{b}, []*sad.SA{sa}, res, opt)
	return res[0]
}

func decap1(t testing.TB, p *Processor, b *pkt.Buf, sa *sad.SA, opt Options) stats.Reason {
	t.Helper()
	res := []stats.Reason{99}
	p.Decap([]*pkt.Buf{b}, []*sad.SA{sa}, res, opt)
	return res[0]
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" \n\t", r) {
			return -1
		}
		return r
	}, s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("len %d vs %d, first difference at %d\n got %x\nwant %x", len(got), len(want), i, got, want)
}

// checkOuter verifies the outer headers of an encapsulated packet.
func checkOuter(t testing.TB, data []byte, sa *sad.SA) {
	t.Helper()
	var proto uint8
	var l4 int
	if data[0]>>4 == 4 {
		ip := hdr.IPv4(data)
		if !ip.IsValid(len(data)) || ip.TotalLen() != len(data) || !ip.ChecksumValid() {
			t.Fatalf("bad outer IPv4 header %x", data[:20])
		}
		proto, l4 = ip.Protocol(), ip.HeaderLen()
	} else {
		ip := hdr.IPv6(data)
		if !ip.IsValid(len(data)) || 40+ip.PayloadLen() != len(data) {
			t.Fatalf("bad outer IPv6 header %x", data[:40])
		}
		c, ok := ip.Walk(len(data))
		if !ok {
			t.Fatal("bad IPv6 chain")
		}
		proto, l4 = c.Proto, c.Off
	}
	esp := l4
	if sa.NATT {
		if proto != hdr.ProtoUDP {
			t.Fatalf("NAT-T outer protocol %d", proto)
		}
		u := hdr.UDP(data[l4:])
		if u.Length() != len(data)-l4 || u.SrcPort() != sa.NATTSport || u.DstPort() != sa.NATTDport {
			t.Fatalf("bad NAT-T UDP header %x", data[l4:l4+8])
		}
		if data[0]>>4 == 4 && u.Checksum() != 0 {
			t.Fatal("IPv4 NAT-T UDP checksum not zero")
		}
		if data[0]>>4 == 6 && (u.Checksum() == 0 || hdr.Fold(hdr.Sum(data[l4:], hdr.IPv6(data).PseudoSum(hdr.ProtoUDP, u.Length()))) != 0xffff) {
			t.Fatal("IPv6 NAT-T UDP checksum wrong")
		}
		esp += 8
	} else if proto != hdr.ProtoESP {
		t.Fatalf("outer protocol %d", proto)
	}
	if hdr.ESP(data[esp:]).SPI() != sa.SPI {
		t.Fatal("wrong SPI")
	}
	if sa.Mode == sad.ModeTunnel {
		if data[0]>>4 == 4 {
			ip := hdr.IPv4(data)
			if netip.AddrFrom4(ip.Src()) != sa.Src || netip.AddrFrom4(ip.Dst()) != sa.Dst {
				t.Fatal("outer addresses")
			}
		} else {
			ip := hdr.IPv6(data)
			if netip.AddrFrom16(ip.Src()) != sa.Src || netip.AddrFrom16(ip.Dst()) != sa.Dst {
				t.Fatal("outer addresses")
			}
		}
	}
	s := sa.Sess
	ct := len(data) - esp - 8 - s.IVLen() - s.ICVLen()
	if ct%max(4, s.BlockLen()) != 0 {
		t.Fatalf("ciphertext %d bytes not aligned", ct)
	}
}

// Shared with the other transforms' tests (ipsec/internal/xformtest).
var (
	testPool = xformtest.Pool
	buf      = xformtest.Buf
	classify = xformtest.Classify
	wire     = xformtest.Wire
	free     = xformtest.Free
	fillUDP  = xformtest.FillUDP
)
