package enc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Dir is the direction of a packet through enc0.
type Dir uint8

// Directions; DirAny is only meaningful in a Rule.
const (
	DirAny Dir = iota
	DirIn      // after inbound decapsulation
	DirOut     // before outbound encapsulation
)

// String names the direction as rules write it.
func (d Dir) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	}
	return "any"
}

// Action is what a matching rule does.
type Action uint8

// Actions.
const (
	Pass Action = iota
	Drop
)

// String names the action as rules write it.
func (a Action) String() string {
	if a == Drop {
		return "drop"
	}
	return "pass"
}

// MaxRules bounds a rule set.
const MaxRules = 4096

// Rule is one filter rule. Its text form, which Parse reads and String
// writes, is pf-like:
//
//	pass|drop [in|out] [proto P] [from ADDR [port PORTS]] [to ADDR [port PORTS]] [spi SPI]
//
// ADDR is any, an address or a prefix; PORTS is N or N-M (proto tcp, udp,
// sctp, dccp or udplite); P is a name (tcp, udp, icmp, icmp6, esp, ah,
// gre, sctp, ...) or a number; SPI is decimal or 0x-hex, the SPI of the SA
// the packet leaves by (out) or arrived through (in, the innermost). A rule
// with nothing after the action (or "all") matches every packet.
type Rule struct {
	Action           Action
	Dir              Dir
	Proto            int          // -1: any
	Src, Dst         netip.Prefix // invalid: any (either family)
	SrcPort, DstPort spd.PortRange
	SPI              uint32 // 0: any
}

var protoNames = map[string]int{
	"icmp": 1, "ipencap": 4, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47, "esp": 50, "ah": 51,
	"icmp6": 58, "ipv6-icmp": 58, "sctp": 132, "dccp": 33, "udplite": 136,
}

// withPorts are the protocols a port selector applies to.
var withPorts = map[int]bool{6: true, 17: true, 33: true, 132: true, 136: true}

func protoString(p int) string {
	for _, name := range []string{"icmp", "ipip", "tcp", "udp", "ipv6", "gre", "esp", "ah", "icmp6", "sctp", "dccp", "udplite"} {
		if protoNames[name] == p {
			return name
		}
	}
	return strconv.Itoa(p)
}

// Parse reads one rule in the text form described at Rule.
func Parse(line string) (Rule, error) {
	r := Rule{Proto: -1, SrcPort: spd.AnyPort, DstPort: spd.AnyPort}
	tok := strings.Fields(line)
	if len(tok) == 0 {
		return r, errors.New("empty rule")
	}
	switch tok[0] {
	case "pass":
	case "drop", "block":
		r.Action = Drop
	default:
		return r, fmt.Errorf("rule must start with pass or drop, not %q", tok[0])
	}
	seen := map[string]bool{}
	next := func(i int, what string) (string, error) {
		if i+1 >= len(tok) {
			return "", fmt.Errorf("%s: missing %s", tok[i], what)
		}
		return tok[i+1], nil
	}
	var srcPorts, dstPorts bool
	for i := 1; i < len(tok); i++ {
		w := tok[i]
		key := w
		if w == "in" || w == "out" {
			key = "direction"
		}
		if seen[key] {
			return r, fmt.Errorf("%s given twice", key)
		}
		seen[key] = true
		switch w {
		case "all":
		case "in":
			r.Dir = DirIn
		case "out":
			r.Dir = DirOut
		case "proto":
			v, err := next(i, "protocol")
			if err != nil {
				return r, err
			}
			if r.Proto, err = parseProto(v); err != nil {
				return r, err
			}
			i++
		case "from", "to":
			v, err := next(i, "address")
			if err != nil {
				return r, err
			}
			p, err := parseAddr(v)
			if err != nil {
				return r, err
			}
			i++
			ports := spd.AnyPort
			hasPorts := false
			if i+1 < len(tok) && tok[i+1] == "port" {
				pv, err := next(i+1, "port")
				if err != nil {
					return r, err
				}
				if ports, err = parsePorts(pv); err != nil {
					return r, err
				}
				hasPorts = true
				i += 2
			}
			if w == "from" {
				r.Src, r.SrcPort, srcPorts = p, ports, hasPorts
			} else {
				r.Dst, r.DstPort, dstPorts = p, ports, hasPorts
			}
		case "spi":
			v, err := next(i, "SPI")
			if err != nil {
				return r, err
			}
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil || n == 0 {
				return r, fmt.Errorf("invalid SPI %q (want 1..0xffffffff)", v)
			}
			r.SPI = uint32(n)
			i++
		default:
			return r, fmt.Errorf("unexpected %q (want in, out, proto, from, to, spi or all)", w)
		}
	}
	if (srcPorts || dstPorts) && !withPorts[r.Proto] {
		return r, errors.New("port needs proto tcp, udp, sctp, dccp or udplite")
	}
	if r.Src.IsValid() && r.Dst.IsValid() && r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
		return r, errors.New("from and to are of different address families")
	}
	return r, nil
}

func parseProto(s string) (int, error) {
	if s == "any" {
		return -1, nil
	}
	if p, ok := protoNames[s]; ok {
		return p, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return int(n), nil
}

func parseAddr(s string) (netip.Prefix, error) {
	if s == "any" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return p, fmt.Errorf("invalid prefix %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parsePorts(s string) (spd.PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		lo, hi, isRange = strings.Cut(s, ":")
	}
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return spd.AnyPort, fmt.Errorf("invalid port %q", s)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
			return spd.AnyPort, fmt.Errorf("invalid port range %q", s)
		}
	}
	return spd.PortRange{Lo: uint16(a), Hi: uint16(b)}, nil
}

// String writes r in the form Parse reads.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Action.String())
	if r.Dir != DirAny {
		b.WriteString(" " + r.Dir.String())
	}
	base := b.Len()
	if r.Proto >= 0 {
		b.WriteString(" proto " + protoString(r.Proto))
	}
	end := func(word string, p netip.Prefix, ports spd.PortRange) {
		if !p.IsValid() && ports.IsAny() {
			return
		}
		a := "any"
		if p.IsValid() {
			a = p.String()
			if p.Bits() == p.Addr().BitLen() {
				a = p.Addr().String()
			}
		}
		b.WriteString(" " + word + " " + a)
		if !ports.IsAny() {
			b.WriteString(" port " + strconv.Itoa(int(ports.Lo)))
			if ports.Hi != ports.Lo {
				b.WriteString("-" + strconv.Itoa(int(ports.Hi)))
			}
		}
	}
	end("from", r.Src, r.SrcPort)
	end("to", r.Dst, r.DstPort)
	if r.SPI != 0 {
		b.WriteString(" spi 0x" + strconv.FormatUint(uint64(r.SPI), 16))
	}
	if b.Len() == base {
		b.WriteString(" all")
	}
	return b.String()
}

// ParseRules reads a rule file: one rule per line, '#' starts a comment,
// blank lines are skipped. Errors name the file and line ("name:3: ...");
// any error means no rules.
func ParseRules(name, text string) ([]Rule, error) {
	var rules []Rule
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		r, err := Parse(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, i+1, err))
			continue
		}
		rules = append(rules, r)
	}
	if len(rules) > MaxRules {
		errs = append(errs, fmt.Errorf("%s: %d rules, at most %d", name, len(rules), MaxRules))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// compiled is a Rule ready for matching spd.Keys: addresses as masked
// 64-bit words (an IPv4 address is the top of word 0, as spd.Key lays it
// out).
type compiled struct {
	fam             uint8 // 0 any, 4, 6
	proto           int
	srcMask, srcVal [2]uint64
	dstMask, dstVal [2]uint64
	sport, dport    spd.PortRange
	anyPorts        bool
	spi             uint32
	dir             Dir
	drop            bool
}

func compile(r Rule) compiled {
	c := compiled{proto: r.Proto, sport: r.SrcPort, dport: r.DstPort, spi: r.SPI, dir: r.Dir,
		drop: r.Action == Drop, anyPorts: r.SrcPort.IsAny() && r.DstPort.IsAny()}
	for _, p := range []netip.Prefix{r.Src, r.Dst} {
		if p.IsValid() {
			c.fam = 4
			if p.Addr().Is6() {
				c.fam = 6
			}
		}
	}
	c.srcMask, c.srcVal = words(r.Src)
	c.dstMask, c.dstVal = words(r.Dst)
	return c
}

// words returns a prefix's mask and masked value as spd.Key words.
func words(p netip.Prefix) (mask, val [2]uint64) {
	if !p.IsValid() {
		return
	}
	var a [16]byte
	if p.Addr().Is4() {
		v4 := p.Addr().As4()
		copy(a[:], v4[:])
	} else {
		a = p.Addr().As16()
	}
	bits := p.Bits()
	for w := range 2 {
		n := min(max(bits-64*w, 0), 64)
		if n > 0 {
			mask[w] = ^uint64(0) << (64 - n)
		}
		val[w] = binary.BigEndian.Uint64(a[8*w:]) & mask[w]
	}
	return
}

// match reports whether the packet with key k, seen in direction dir
// through the SA with the given SPI, matches c.
func (c *compiled) match(k *spd.Key, dir Dir, spi uint32) bool {
	if c.dir != DirAny && c.dir != dir {
		return false
	}
	if c.spi != 0 && c.spi != spi {
		return false
	}
	if c.fam != 0 && (c.fam == 6) != k.V6 {
		return false
	}
	if c.proto >= 0 && c.proto != int(k.Proto) {
		return false
	}
	if !c.anyPorts {
		if k.Opaque || !c.sport.Contains(k.SrcPort) || !c.dport.Contains(k.DstPort) {
			return false
		}
	}
	s0, s1 := binary.BigEndian.Uint64(k.Src[:8]), binary.BigEndian.Uint64(k.Src[8:])
	d0, d1 := binary.BigEndian.Uint64(k.Dst[:8]), binary.BigEndian.Uint64(k.Dst[8:])
	return s0&c.srcMask[0] == c.srcVal[0] && s1&c.srcMask[1] == c.srcVal[1] &&
		d0&c.dstMask[0] == c.dstVal[0] && d1&c.dstMask[1] == c.dstVal[1]
}
