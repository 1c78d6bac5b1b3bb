package setkey

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// upperProtos are the /etc/protocols names setkey users write, plus
// setkey's own icmp6 and ip4.
var upperProtos = map[string]int{
	"any": -1, "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "ip4": 4, "ipip": 4,
	"tcp": 6, "egp": 8, "udp": 17, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44,
	"rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ipv6-icmp": 58,
	"ipv6-nonxt": 59, "ipv6-opts": 60, "eigrp": 88, "ospf": 89, "etherip": 97, "pim": 103,
	"ipcomp": 108, "vrrp": 112, "carp": 112, "l2tp": 115, "sctp": 132, "udplite": 136,
	"mpls-in-ip": 137,
}

// spdCommand parses spdadd, spdupdate and spddelete.
func (s *stmt) spdCommand(op Op) ([]Command, *Error) {
	if t := s.peek(); t != nil && t.s == "tagged" && !t.quoted {
		return nil, s.errAt(t, "tagged policies are not supported")
	}
	f := s.flags()
	pol := &Policy{Proto: -1, ICMPType: -1, ICMPCode: -1}
	var err *Error
	if pol.Src, pol.SrcPort, err = s.rangeAddr("source range", f); err != nil {
		return nil, err
	}
	if pol.Dst, pol.DstPort, err = s.rangeAddr("destination range", f); err != nil {
		return nil, err
	}
	if pol.Src.Addr().Is4() != pol.Dst.Addr().Is4() {
		return nil, s.errAt(&s.toks[1], "source %s and destination %s are of different address families", pol.Src, pol.Dst)
	}
	ut, err := s.need("upper-layer protocol")
	if err != nil {
		return nil, err
	}
	if n, ok := parseDec(ut.s, 255); ok && !ut.quoted {
		pol.Proto = int(n)
		if n == 255 { // IPSEC_ULPROTO_ANY
			pol.Proto = -1
		}
	} else if n, ok := upperProtos[ut.s]; ok && !ut.quoted {
		pol.Proto = n
	} else {
		return nil, s.errAt(ut, "unknown upper-layer protocol %s", quote(ut))
	}
	if t := s.peek(); t != nil && t.s != "-P" {
		if t.s == "-ctx" {
			return nil, s.errAt(t, "security contexts (-ctx) are not supported")
		}
		if pol.Proto != 1 && pol.Proto != 58 {
			return nil, s.errAt(t, "unexpected %s (a type,code follows only icmp or icmp6)", quote(t))
		}
		if err := s.icmpSpec(t, pol); err != nil {
			return nil, err
		}
		s.next()
	}
	pt := s.next()
	if pt == nil || pt.s != "-P" || pt.quoted {
		return nil, s.errAt(pt, "missing policy (-P direction ...)")
	}
	rest := s.toks[s.i:]
	s.i = len(s.toks)
	pp := policyParser{stmt: s, toks: rest, at: pt}
	hasAction, err := pp.parse(pol)
	if err != nil {
		return nil, err
	}
	if !hasAction && op != OpSPDDelete {
		return nil, s.errAt(pt, "policy needs an action after the direction (discard, none, ipsec, ...)")
	}
	return []Command{{Op: op, Policy: pol}}, nil
}

// icmpSpec parses "type" or "type,code".
func (s *stmt) icmpSpec(t *token, pol *Policy) *Error {
	if pol.SrcPort != 0 || pol.DstPort != 0 {
		return s.errAt(t, "ICMP type/code and ports are exclusive")
	}
	typ, code, hasCode := strings.Cut(t.s, ",")
	n, ok := parseDec(typ, 255)
	if !ok || t.quoted {
		return s.errAt(t, "bad ICMP type/code %s: want type or type,code", quote(t))
	}
	pol.ICMPType = int(n)
	if hasCode {
		m, ok := parseDec(code, 255)
		if !ok {
			return s.errAt(t, "bad ICMP type/code %s: want type or type,code", quote(t))
		}
		pol.ICMPCode = int(m)
	}
	return nil
}

// rangeAddr parses "address[/prefixlen][[port]]".
func (s *stmt) rangeAddr(what string, f family) (netip.Prefix, uint16, *Error) {
	t, w, err := s.addrWord(what)
	if err != nil {
		return netip.Prefix{}, 0, err
	}
	host, plen, port, hasPlen, hasPort, ok := splitAddr(w)
	if !ok {
		return netip.Prefix{}, 0, s.errAt(t, "bad %s %q", what, w)
	}
	var p uint16
	if hasPort {
		if p, ok = parsePort(port); !ok {
			return netip.Prefix{}, 0, s.errAt(t, "bad port %q in %q: want a number or any", port, w)
		}
	}
	addrs, err := s.hosts(t, host, f)
	if err != nil {
		return netip.Prefix{}, 0, err
	}
	if len(addrs) > 1 {
		return netip.Prefix{}, 0, s.errAt(t, "multiple addresses specified for %q", host)
	}
	a := addrs[0]
	bits := a.BitLen()
	if hasPlen {
		n, ok := parseDec(plen, uint64(a.BitLen()))
		if !ok {
			return netip.Prefix{}, 0, s.errAt(t, "bad prefix length %q in %q", plen, w)
		}
		bits = int(n)
	}
	pfx, perr := a.WithZone("").Prefix(bits)
	if perr != nil {
		return netip.Prefix{}, 0, s.errAt(t, "bad %s %q", what, w)
	}
	return pfx, p, nil
}

// ParsePolicy parses a policy string as ipsec_set_policy(3) and setkey's -P
// take it: "out ipsec esp/tunnel/A-B/require" (a leading "-P" is allowed).
// A lone direction (spddelete's form) yields action discard and no requests.
func ParsePolicy(s string) (dir Dir, pri int32, action Action, reqs []Request, err error) {
	if len(s) > maxStatement {
		return 0, 0, 0, nil, &Error{Msg: fmt.Sprintf("policy longer than %d bytes", maxStatement)}
	}
	var toks []token
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		if j > i {
			toks = append(toks, token{s: s[i:j], col: i + 1})
		}
		i = j
	}
	if len(toks) > 0 && toks[0].s == "-P" {
		toks = toks[1:]
	}
	st := &stmt{p: &parser{}, toks: []token{{s: "-P"}}}
	pp := policyParser{stmt: st, toks: toks, at: &st.toks[0]}
	var pol Policy
	if _, perr := pp.parse(&pol); perr != nil {
		return 0, 0, 0, nil, perr
	}
	return pol.Dir, pol.Priority, pol.Action, pol.Requests, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// policyParser parses the tokens after -P.
type policyParser struct {
	*stmt
	toks []token
	i    int
	at   *token // the -P token, for errors at the end
}

func (p *policyParser) err(t *token, format string, args ...any) *Error {
	if t == nil {
		if len(p.toks) > 0 {
			last := p.toks[len(p.toks)-1]
			return &Error{Line: last.line, Col: last.col + len(last.s), Msg: fmt.Sprintf(format, args...)}
		}
		return &Error{Line: p.at.line, Col: p.at.col + 2, Msg: fmt.Sprintf(format, args...)}
	}
	return &Error{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *policyParser) next() *token {
	if p.i < len(p.toks) {
		p.i++
		return &p.toks[p.i-1]
	}
	return nil
}

var (
	directions = map[string]Dir{"in": DirIn, "out": DirOut, "fwd": DirFwd}
	actions    = map[string]Action{"discard": ActionDiscard, "none": ActionNone, "ipsec": ActionIPsec,
		"entrust": ActionEntrust, "bypass": ActionBypass}
	prioBases = map[string]int64{"low": -0x40000000, "def": 0, "default": 0, "high": 0x40000000}
)

// parse fills pol's Dir, Priority, Action and Requests; it reports whether
// an action was given.
func (p *policyParser) parse(pol *Policy) (bool, *Error) {
	t := p.next()
	if t == nil {
		return false, p.err(nil, "missing policy direction (in, out or fwd)")
	}
	d, ok := directions[t.s]
	if !ok || t.quoted {
		return false, p.err(t, "unknown policy direction %s: want in, out or fwd", quote(t))
	}
	pol.Dir = d
	t = p.next()
	if t == nil {
		return false, nil
	}
	if t.s == "prio" || t.s == "priority" {
		var spec strings.Builder
		for t = p.next(); t != nil; t = p.next() {
			if _, isAct := actions[t.s]; isAct || spec.Len() > 64 {
				break
			}
			spec.WriteString(t.s)
		}
		pri, ok := parsePriority(spec.String())
		if !ok {
			return false, p.err(t, "bad priority %q: want N, -N, low, def, high, or base+N / base-N", spec.String())
		}
		pol.Priority = pri
		if t == nil {
			return false, p.err(nil, "missing policy action after the priority")
		}
	}
	a, ok := actions[t.s]
	if !ok || t.quoted {
		return false, p.err(t, "unknown policy action %s: want discard, none, ipsec, entrust or bypass", quote(t))
	}
	pol.Action = a
	for r := p.next(); r != nil; r = p.next() {
		if a != ActionIPsec {
			return true, p.err(r, "unexpected %s: only an ipsec policy takes requests", quote(r))
		}
		req, err := p.request(r)
		if err != nil {
			return true, err
		}
		pol.Requests = append(pol.Requests, req)
	}
	if a == ActionIPsec && len(pol.Requests) == 0 {
		return true, p.err(nil, "ipsec policy needs at least one protocol/mode/src-dst/level request")
	}
	return true, nil
}

// parsePriority parses ipsec-tools' priority forms (spaces removed):
// "N", "-N", "+N", "base", "base+N", "base-N". The result is the priority
// as written (higher wins), so that 0x80000000 - pri is in 1..0xffffffff.
func parsePriority(s string) (int32, bool) {
	var base int64
	rest := s
	for _, name := range [...]string{"default", "def", "low", "high"} {
		if r, ok := strings.CutPrefix(s, name); ok && (r == "" || r[0] == '+' || r[0] == '-') {
			base, rest = prioBases[name], r
			break
		}
	}
	if rest == "" {
		return int32(base), s != ""
	}
	sign := int64(1)
	switch rest[0] {
	case '-':
		sign, rest = -1, rest[1:]
	case '+':
		rest = rest[1:]
	default:
		if len(rest) != len(s) { // base followed by a number without sign
			return 0, false
		}
	}
	n, ok := parseDec(rest, 1<<32)
	if !ok {
		return 0, false
	}
	v := base + sign*int64(n)
	if v > 0x7fffffff || v < -0x7fffffff {
		return 0, false
	}
	return int32(v), true
}

var (
	reqProtos = map[string]sad.Proto{"esp": sad.ProtoESP, "ah": sad.ProtoAH, "ipcomp": sad.ProtoIPComp}
	reqModes  = map[string]sad.Mode{"transport": sad.ModeTransport, "tunnel": sad.ModeTunnel}
	levels    = map[string]Level{"default": LevelDefault, "use": LevelUse, "require": LevelRequire, "unique": LevelUnique}
)

// request parses "protocol/mode/src-dst/level" and its shorter forms.
func (p *policyParser) request(t *token) (Request, *Error) {
	var r Request
	parts := strings.Split(t.s, "/")
	if len(parts) < 2 || parts[1] == "" {
		return r, p.err(t, "request %s: too few parts, want protocol/mode/src-dst/level", quote(t))
	}
	if len(parts) > 4 {
		return r, p.err(t, "request %s: too many parts, want protocol/mode/src-dst/level", quote(t))
	}
	var ok bool
	if r.Proto, ok = reqProtos[parts[0]]; !ok {
		return r, p.err(t, "request %s: unknown protocol %q: want esp, ah or ipcomp", quote(t), parts[0])
	}
	if r.Mode, ok = reqModes[parts[1]]; !ok {
		return r, p.err(t, "request %s: unknown mode %q: want transport or tunnel", quote(t), parts[1])
	}
	if len(parts) > 2 && parts[2] != "" {
		src, dst, found := strings.Cut(parts[2], "-")
		if !found {
			return r, p.err(t, "request %s: endpoints %q: want src-dst", quote(t), parts[2])
		}
		var err *Error
		if r.Src, r.SrcPort, err = p.endpoint(t, src); err != nil {
			return r, err
		}
		if r.Dst, r.DstPort, err = p.endpoint(t, dst); err != nil {
			return r, err
		}
		if r.Src.Is4() != r.Dst.Is4() {
			return r, p.err(t, "request %s: endpoints of different address families", quote(t))
		}
	}
	if r.Mode == sad.ModeTunnel && !r.Src.IsValid() {
		return r, p.err(t, "request %s: tunnel mode needs src-dst endpoints", quote(t))
	}
	if len(parts) > 3 && parts[3] != "" {
		lv, id, hasID := strings.Cut(parts[3], ":")
		if r.Level, ok = levels[lv]; !ok {
			return r, p.err(t, "request %s: unknown level %q: want default, use, require or unique[:reqid]", quote(t), parts[3])
		}
		if hasID {
			n, ok := parseDec(id, 32767)
			if r.Level != LevelUnique || !ok || n == 0 {
				return r, p.err(t, "request %s: bad level %q: only unique takes :reqid, 1 to 32767", quote(t), parts[3])
			}
			r.ReqID = uint32(n)
		}
	}
	return r, nil
}

// endpoint parses a request endpoint "addr" or "addr[port]".
func (p *policyParser) endpoint(t *token, w string) (netip.Addr, uint16, *Error) {
	host, _, port, hasPlen, hasPort, ok := splitAddr(w)
	var a netip.Addr
	var err error
	if ok && !hasPlen {
		a, err = netip.ParseAddr(host)
	}
	if !ok || hasPlen || err != nil {
		return a, 0, p.err(t, "request %s: bad address %q", quote(t), w)
	}
	var n uint16
	if hasPort {
		if n, ok = parsePort(port); !ok {
			return a, 0, p.err(t, "request %s: bad port %q", quote(t), port)
		}
	}
	return a, n, nil
}
