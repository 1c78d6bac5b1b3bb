package setkey

import (
	"net/netip"
	"strings"
	"time"

	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// protoSpec is a protocol keyword's meaning.
type protoSpec struct {
	proto    sad.Proto
	old, udp bool
}

var protocols = map[string]protoSpec{
	"esp": {proto: sad.ProtoESP}, "esp-old": {proto: sad.ProtoESP, old: true},
	"ah": {proto: sad.ProtoAH}, "ah-old": {proto: sad.ProtoAH, old: true},
	"ipcomp": {proto: sad.ProtoIPComp}, "tcp": {proto: ProtoTCP},
	"esp-udp": {proto: sad.ProtoESP, udp: true},
}

// Algorithm names setkey knows but the router does not implement.
var (
	obsoleteEnc  = map[string]bool{"des-cbc": true, "blowfish-cbc": true, "cast128-cbc": true, "des-deriv": true, "des-32iv": true, "3des-deriv": true, "simple": true, "twofish-cbc": true, "camellia-cbc": true}
	obsoleteAuth = map[string]bool{"keyed-md5": true, "keyed-sha1": true, "hmac-ripemd160": true}
)

// natTPort is the default ESP-in-UDP port (RFC 3948).
const natTPort = 4500

// saCommand parses add, get, delete and deleteall.
func (s *stmt) saCommand(op Op) ([]Command, *Error) {
	f := s.flags()
	st, sw, err := s.addrWord("source address")
	if err != nil {
		return nil, err
	}
	dt, dw, err := s.addrWord("destination address")
	if err != nil {
		return nil, err
	}
	srcs, sport, err := s.saAddr(st, sw, f)
	if err != nil {
		return nil, err
	}
	dsts, dport, err := s.saAddr(dt, dw, f)
	if err != nil {
		return nil, err
	}
	pt, err := s.need("protocol")
	if err != nil {
		return nil, err
	}
	ps, ok := protocols[pt.s]
	if !ok || pt.quoted {
		return nil, s.errAt(pt, "unknown protocol %s", quote(pt))
	}
	sa := &SA{Old: ps.old, SrcPort: sport, DstPort: dport}
	c := &sa.Config
	c.Proto = ps.proto
	if ps.udp {
		c.NATT, c.NATTSport, c.NATTDport = true, orDefault(sport, natTPort), orDefault(dport, natTPort)
	}
	if op != OpDeleteAll {
		t, err := s.need("SPI")
		if err != nil {
			return nil, err
		}
		spi, ok := parseNum(t.s, 0xffffffff)
		if !ok || t.quoted {
			return nil, s.errAt(t, "bad SPI %s: want a 32-bit decimal or 0x hex number", quote(t))
		}
		if spi < 256 && (c.Proto == sad.ProtoESP || c.Proto == sad.ProtoAH) {
			return nil, s.errAt(t, "SPI %d is reserved (0-255)", spi)
		}
		c.SPI = uint32(spi)
		if err := s.saOptions(op, sa, t); err != nil {
			return nil, err
		}
	} else if err := s.end(); err != nil {
		return nil, err
	}
	// All same-family pairs, as setkey does for names with several addresses.
	var out []Command
	for _, a := range srcs {
		for _, b := range dsts {
			if a.Is4() != b.Is4() {
				continue
			}
			if len(out) == maxExpand {
				return nil, s.errAt(st, "addresses expand to more than %d SAs", maxExpand)
			}
			cp := *sa
			cp.Config.Src, cp.Config.Dst = a, b
			out = append(out, Command{Op: op, SA: &cp})
		}
	}
	switch {
	case len(out) == 0:
		return nil, s.errAt(st, "source %s and destination %s are of different address families", sw, dw)
	case len(out) > 1 && op == OpDelete:
		return nil, s.errAt(st, "multiple addresses specified")
	}
	return out, nil
}

func orDefault(p, def uint16) uint16 {
	if p == 0 {
		return def
	}
	return p
}

// saAddr parses an SA endpoint "addr[port]".
func (s *stmt) saAddr(t *token, w string, f family) ([]netip.Addr, uint16, *Error) {
	host, _, port, hasPlen, hasPort, ok := splitAddr(w)
	if !ok || hasPlen {
		return nil, 0, s.errAt(t, "bad address %q", w)
	}
	var p uint16
	if hasPort {
		if p, ok = parsePort(port); !ok {
			return nil, 0, s.errAt(t, "bad port %q in %q", port, w)
		}
	}
	addrs, err := s.hosts(t, host, f)
	return addrs, p, err
}

// algs records which algorithm options an SA statement had.
type algs struct {
	enc, auth, comp *token
	encName         string
}

// saOptions parses extensions and (for add) algorithms.
func (s *stmt) saOptions(op Op, sa *SA, spiTok *token) *Error {
	c := &sa.Config
	var a algs
	num := func(opt *token, max uint64) (uint64, *Error) {
		t, err := s.need("value for " + opt.s)
		if err != nil {
			return 0, err
		}
		n, ok := parseDec(t.s, max)
		if !ok || t.quoted {
			return 0, s.errAt(t, "bad value %s for %s: want a decimal number up to %d", quote(t), opt.s, max)
		}
		return n, nil
	}
	for t := s.next(); t != nil; t = s.next() {
		if t.quoted {
			return s.errAt(t, "unexpected string")
		}
		isAlg := t.s == "-E" || t.s == "-A" || t.s == "-C"
		if isAlg && op != OpAdd {
			return s.errAt(t, "%s takes no algorithm", op)
		}
		switch t.s {
		case "-m":
			m, err := s.need("mode")
			if err != nil {
				return err
			}
			switch m.s {
			case "transport":
				c.Mode = sad.ModeTransport
			case "tunnel":
				c.Mode = sad.ModeTunnel
			case "any":
				c.Mode = sad.ModeAny
			default:
				return s.errAt(m, "unknown mode %s: want transport, tunnel or any", quote(m))
			}
		case "-r":
			n, err := num(t, (0xffffffff-32)>>3)
			if err != nil {
				return err
			}
			if sa.Old {
				return s.errAt(t, "replay prevention cannot be used with ah-old/esp-old")
			}
			c.ReplayWindow = uint32(n) * 8
		case "-u":
			n, err := num(t, 0xffffffff)
			if err != nil {
				return err
			}
			c.ReqID = uint32(n)
		case "-lh", "-ls", "-bh", "-bs":
			n, err := num(t, 1<<62)
			if err != nil {
				return err
			}
			l := &c.Hard
			if t.s[2] == 's' {
				l = &c.Soft
			}
			if t.s[1] == 'l' {
				l.AddTime = time.Duration(n) * time.Second
				if l.AddTime < 0 || int64(l.AddTime)/int64(time.Second) != int64(n) {
					return s.errAt(t, "lifetime %d seconds is too long", n)
				}
			} else {
				l.Bytes = n
			}
		case "-f":
			v, err := s.need("value for -f")
			if err != nil {
				return err
			}
			switch v.s {
			case "zero-pad", "random-pad", "seq-pad":
				sa.PadOption = v.s
			case "nocyclic-seq":
				sa.NoCyclicSeq = true
			case "esn":
				c.ESN = true
			default:
				return s.errAt(v, "unknown -f option %s: want zero-pad, random-pad, seq-pad, nocyclic-seq or esn", quote(v))
			}
		case "-esn":
			c.ESN = true
		case "-natt":
			if err := s.natt(sa); err != nil {
				return err
			}
		case "-natt_mtu":
			n, err := num(t, 65535)
			if err != nil {
				return err
			}
			sa.NATTFragLen = int(n)
		case "-tfc":
			n, err := num(t, 65535)
			if err != nil {
				return err
			}
			c.TFCPad = int(n)
		case "-E":
			if a.enc != nil {
				return s.errAt(t, "duplicate -E")
			}
			a.enc = t
			if err := s.encAlg(sa, &a); err != nil {
				return err
			}
		case "-A":
			if a.auth != nil {
				return s.errAt(t, "duplicate -A")
			}
			a.auth = t
			if err := s.authAlg(sa); err != nil {
				return err
			}
		case "-C":
			if a.comp != nil {
				return s.errAt(t, "duplicate -C")
			}
			a.comp = t
			n, err := s.need("compression algorithm")
			if err != nil {
				return err
			}
			switch n.s {
			case "deflate":
				c.Comp = 2
			case "oui", "lzs":
				return s.errAt(n, "unsupported compression algorithm %s", quote(n))
			default:
				return s.errAt(n, "unknown compression algorithm %s", quote(n))
			}
			if r := s.peek(); r != nil && r.s == "-R" && !r.quoted {
				s.next()
				sa.CompRawCPI = true
				c.RawCPI = true
			}
		case "-R":
			return s.errAt(t, "-R must follow -C calgo")
		case "-ctx":
			return s.errAt(t, "security contexts (-ctx) are not supported")
		default:
			if t.s[0] == '-' {
				return s.errAt(t, "unknown option %s", quote(t))
			}
			return s.errAt(t, "unexpected %s", quote(t))
		}
	}
	if op != OpAdd {
		return nil
	}
	return s.combine(sa, &a, spiTok)
}

// natt parses FreeBSD's "-natt oai[sport] oar[dport]".
func (s *stmt) natt(sa *SA) *Error {
	c := &sa.Config
	var addrs [2]netip.Addr
	var ports [2]uint16
	for i, what := range []string{"NAT-T initiator address[port]", "NAT-T responder address[port]"} {
		t, w, err := s.addrWord(what)
		if err != nil {
			return err
		}
		host, _, port, hasPlen, hasPort, ok := splitAddr(w)
		if !ok || hasPlen || !hasPort {
			return s.errAt(t, "bad %s %q: want address[port]", what, w)
		}
		p, ok := parseDec(port, 65535)
		if !ok || p == 0 {
			return s.errAt(t, "bad port %q in %q", port, w)
		}
		a, err2 := netip.ParseAddr(host)
		if err2 != nil {
			return s.errAt(t, "bad address %q", host)
		}
		addrs[i], ports[i] = a, uint16(p)
	}
	if addrs[0].Is4() != addrs[1].Is4() {
		return s.errAt(nil, "NAT-T addresses %s and %s are of different families", addrs[0], addrs[1])
	}
	c.NATT = true
	c.NATOAi, c.NATOAr = addrs[0], addrs[1]
	c.NATTSport, c.NATTDport = ports[0], ports[1]
	return nil
}

// key parses a key: 0x hex (odd digit count: leading zero nibble) or a
// quoted string. Errors never show key material.
func (s *stmt) key(alg string) ([]byte, *Error) {
	t, err := s.need("key for " + alg)
	if err != nil {
		return nil, err
	}
	if t.quoted {
		return []byte(t.s), nil
	}
	if len(t.s) < 2 || (t.s[:2] != "0x" && t.s[:2] != "0X") {
		if t.s[0] == '-' {
			return nil, s.errAt(t, "missing key for %s", alg)
		}
		return nil, s.errAt(t, "bad key for %s: want 0x hex digits or a \"quoted string\"", alg)
	}
	h := t.s[2:]
	if h == "" {
		return nil, s.errAt(t, "bad key for %s: no hex digits after 0x", alg)
	}
	out := make([]byte, (len(h)+1)/2)
	j := len(h) % 2 // odd: first byte takes one digit
	for i := 0; i < len(h); i++ {
		d, ok := unhex(h[i])
		if !ok {
			return nil, s.errAt(t, "bad key for %s: invalid hex digit at column %d", alg, t.col+2+i)
		}
		out[(i+j)/2] |= d << (4 * (1 - (i+j)%2))
	}
	return out, nil
}

// hasKey reports whether the next token looks like a key.
func (s *stmt) hasKey() bool {
	t := s.peek()
	return t != nil && (t.quoted || strings.HasPrefix(t.s, "0x") || strings.HasPrefix(t.s, "0X"))
}

// encAlg parses "-E ealgo key" (null: key optional).
func (s *stmt) encAlg(sa *SA, a *algs) *Error {
	n, err := s.need("encryption algorithm")
	if err != nil {
		return err
	}
	d, ok := alg.EncByName(n.s)
	if !ok || n.quoted {
		if obsoleteEnc[n.s] {
			return s.errAt(n, "unsupported encryption algorithm %s", quote(n))
		}
		return s.errAt(n, "unknown encryption algorithm %s", quote(n))
	}
	a.encName = n.s
	var key []byte
	if d.ID != alg.EncNull || s.hasKey() {
		if key, err = s.key(n.s); err != nil {
			return err
		}
	}
	if !d.Key.Valid(len(key) * 8) {
		return s.errAt(n, "%s key is %d bits, want %s", n.s, len(key)*8, d.Key)
	}
	sa.Config.Enc, sa.Config.EncKey = d.ID, key
	return nil
}

// authAlg parses "-A aalgo key" (null: key optional; tcp-md5: 8-640 bits).
func (s *stmt) authAlg(sa *SA) *Error {
	n, err := s.need("authentication algorithm")
	if err != nil {
		return err
	}
	if n.s == "tcp-md5" && !n.quoted {
		if sa.Config.Proto != ProtoTCP {
			return s.errAt(n, "tcp-md5 needs protocol tcp")
		}
		key, err := s.key(n.s)
		if err != nil {
			return err
		}
		if len(key) < 1 || len(key) > 80 {
			return s.errAt(n, "tcp-md5 key is %d bits, want 8 to 640", len(key)*8)
		}
		sa.Config.AuthKey = key
		return nil
	}
	if n.s == "aes-gmac" && !n.quoted && sa.Config.Proto == sad.ProtoAH {
		// AES-GMAC in AH (RFC 4543 §3.3): keyed like ESP's -E aes-gmac,
		// key and 4-byte salt.
		key, err := s.key(n.s)
		if err != nil {
			return err
		}
		if d := alg.EncAESGMAC.Desc(); !d.Key.Valid(len(key) * 8) {
			return s.errAt(n, "aes-gmac key is %d bits, want %s", len(key)*8, d.Key)
		}
		sa.Config.Enc, sa.Config.EncKey = alg.EncAESGMAC, key
		return nil
	}
	d, ok := alg.AuthByName(n.s)
	if !ok || n.quoted {
		if obsoleteAuth[n.s] {
			return s.errAt(n, "unsupported authentication algorithm %s", quote(n))
		}
		return s.errAt(n, "unknown authentication algorithm %s", quote(n))
	}
	var key []byte
	if d.ID != alg.AuthNull || s.hasKey() {
		if key, err = s.key(n.s); err != nil {
			return err
		}
	}
	if !d.Key.Valid(len(key) * 8) {
		return s.errAt(n, "%s key is %d bits, want %s", n.s, len(key)*8, d.Key)
	}
	sa.Config.Auth, sa.Config.AuthKey = d.ID, key
	return nil
}

// combine checks that the algorithms suit the protocol.
func (s *stmt) combine(sa *SA, a *algs, spiTok *token) *Error {
	c := &sa.Config
	first := func(ts ...*token) *token {
		for _, t := range ts {
			if t != nil {
				return t
			}
		}
		return nil
	}
	switch c.Proto {
	case sad.ProtoESP:
		if t := first(a.comp); t != nil {
			return s.errAt(t, "esp takes no -C")
		}
		if a.enc == nil {
			if a.auth != nil {
				return s.errAt(a.auth, "esp needs -E (write -E null -A ... for integrity only)")
			}
			return s.errAt(nil, "missing algorithm: esp needs -E ealgo key")
		}
		d := c.Enc.Desc()
		if d.AEAD && a.auth != nil && c.Auth != alg.AuthNull {
			return s.errAt(a.auth, "%s is an AEAD algorithm and takes no -A", a.encName)
		}
		if d.AEAD && len(c.AuthKey) > 0 {
			return s.errAt(a.auth, "%s is an AEAD algorithm and takes no integrity key", a.encName)
		}
		if a.auth == nil {
			c.Auth = alg.AuthNull
		}
		if c.Enc == alg.EncNull && c.Auth == alg.AuthNull {
			return s.errAt(a.enc, "null encryption needs an integrity algorithm (-A), RFC 4303 §3.2")
		}
		if c.TFCPad > 0 && c.Mode == sad.ModeTransport {
			return s.errAt(nil, "-tfc needs tunnel mode")
		}
	case sad.ProtoAH:
		if t := first(a.enc, a.comp); t != nil {
			return s.errAt(t, "ah takes only -A")
		}
		if a.auth == nil {
			return s.errAt(nil, "missing algorithm: ah needs -A aalgo key")
		}
		if c.Auth == alg.AuthNull {
			return s.errAt(a.auth, "ah needs an integrity algorithm other than null")
		}
	case sad.ProtoIPComp:
		if t := first(a.enc, a.auth); t != nil {
			return s.errAt(t, "ipcomp takes only -C")
		}
		if a.comp == nil {
			return s.errAt(nil, "missing algorithm: ipcomp needs -C deflate")
		}
		if sa.CompRawCPI && c.SPI > 0xffff {
			return s.errAt(spiTok, "CPI %#x does not fit 16 bits (-R)", c.SPI)
		}
	case ProtoTCP:
		if t := first(a.enc, a.comp); t != nil {
			return s.errAt(t, "tcp takes only -A tcp-md5")
		}
		if a.auth == nil || c.Auth != 0 {
			return s.errAt(first(a.auth), "tcp needs -A tcp-md5 key")
		}
	default:
		return s.errAt(spiTok, "unsupported protocol %s", c.Proto)
	}
	if c.NATT && c.Proto != sad.ProtoESP {
		return s.errAt(nil, "NAT-T needs esp, not %s", c.Proto)
	}
	return nil
}
