package ah

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/internal/xformtest"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// suite is one AH algorithm with its key.
type suite struct {
	name string
	auth alg.AuthID
	gmac bool // AES-GMAC (RFC 4543): the key is in EncKey with its salt
	key  []byte
}

func keyOf(n int, seed byte) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = seed + byte(i*7)
	}
	return k
}

// allSuites lists every algorithm AH supports.
func allSuites() []suite {
	out := []suite{
		{name: "hmac-md5", auth: alg.AuthHMACMD5, key: keyOf(16, 1)},
		{name: "hmac-sha1", auth: alg.AuthHMACSHA1, key: keyOf(20, 2)},
		{name: "hmac-sha2-256", auth: alg.AuthHMACSHA256, key: keyOf(32, 3)},
		{name: "hmac-sha2-384", auth: alg.AuthHMACSHA384, key: keyOf(48, 4)},
		{name: "hmac-sha2-512", auth: alg.AuthHMACSHA512, key: keyOf(64, 5)},
		{name: "aes-xcbc-mac", auth: alg.AuthAESXCBC, key: keyOf(16, 6)},
		{name: "aes-cmac", auth: alg.AuthAESCMAC, key: keyOf(16, 7)},
		{name: "aes-gmac-128", gmac: true, key: keyOf(20, 8)},
		{name: "aes-gmac-256", gmac: true, key: keyOf(36, 9)},
	}
	return out
}

func suiteByName(t testing.TB, name string) suite {
	for _, s := range allSuites() {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no suite %s", name)
	return suite{}
}

type saOpts struct {
	tunnel, v6, esn bool
	window          uint32
	spi             uint32
}

// pair makes the outbound and inbound copies of one SA.
func pair(t testing.TB, s suite, o saOpts) (out, in *sad.SA) {
	t.Helper()
	cfg := sad.Config{SPI: o.spi, Proto: sad.ProtoAH, Mode: sad.ModeTransport,
		Auth: s.auth, AuthKey: s.key, ReplayWindow: o.window, ESN: o.esn, ReqID: 5}
	if s.gmac {
		cfg.Auth, cfg.AuthKey, cfg.Enc, cfg.EncKey = 0, nil, alg.EncAESGMAC, s.key
	}
	if cfg.SPI == 0 {
		cfg.SPI = 0x2000
	}
	if o.tunnel {
		cfg.Mode = sad.ModeTunnel
	}
	src, dst := "192.0.2.1", "198.51.100.2"
	if o.v6 {
		src, dst = "2001:db8::1", "2001:db8:ffff::2"
	}
	cfg.Src, cfg.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	var err error
	if out, err = sad.New(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if in, err = sad.New(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	return out, in
}

// udp4 builds an IPv4/UDP packet with n payload bytes and IP options.
func udp4(src, dst string, tos uint8, n int, opts []byte) []byte {
	hl := 20 + len(opts)
	p := make([]byte, hl+8+n)
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(hl)
	ip.SetTOS(tos)
	ip.SetTotalLen(len(p))
	ip.SetID(0x1234)
	ip.SetFlagsFrag(hdr.IPv4FlagDF)
	ip.SetTTL(63)
	ip.SetProtocol(hdr.ProtoUDP)
	ip.SetSrc(netip.MustParseAddr(src).As4())
	ip.SetDst(netip.MustParseAddr(dst).As4())
	copy(p[20:], opts)
	ip.UpdateChecksum()
	fillUDP(p[hl:], n)
	u := hdr.UDP(p[hl:])
	u.SetChecksum(u.CalcChecksum(ip.PseudoSum(hdr.ProtoUDP, 8+n)))
	return p
}

// udp6 builds an IPv6/UDP packet with n payload bytes after the
// extension headers ext (each with its next-header byte still to set).
func udp6(src, dst string, tc uint8, n int, ext ...[]byte) []byte {
	p := make([]byte, 40)
	ip := hdr.IPv6(p)
	ip.SetVersionTCFlow(tc, 0x12345)
	ip.SetHopLimit(63)
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	ip.SetSrc(&s)
	ip.SetDst(&d)
	next := &p[6]
	for _, e := range ext {
		*next = e[0] // the caller puts the header's own type in e[0]
		off := len(p)
		p = append(p, e[1:]...)
		next = &p[off]
	}
	*next = hdr.ProtoUDP
	off := len(p)
	p = append(p, make([]byte, 8+n)...)
	hdr.IPv6(p).SetPayloadLen(len(p) - 40)
	fillUDP(p[off:], n)
	u := hdr.UDP(p[off:])
	u.SetChecksum(u.CalcChecksum(hdr.IPv6(p).PseudoSum(hdr.ProtoUDP, 8+n)))
	return p
}

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

// defaults are FreeBSD's knob values.
var defaults = Options{ClearTOS: true}

// Shared with the other transforms' tests (ipsec/internal/xformtest).
var (
	testPool = xformtest.Pool
	buf      = xformtest.Buf
	classify = xformtest.Classify
	wire     = xformtest.Wire
	free     = xformtest.Free
	fillUDP  = xformtest.FillUDP
)
