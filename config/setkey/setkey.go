package setkey

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Input limits.
const (
	maxInput     = 16 << 20 // bytes per input
	maxStatement = 64 << 10 // bytes per statement
	maxToken     = 8 << 10  // bytes per token
	maxErrors    = 100      // errors reported per input
	maxExpand    = 64       // commands one add/get/deleteall may expand to
	maxCommands  = 1 << 20  // commands per input
)

// ProtoTCP marks a TCP-MD5 (RFC 2385) SA: parsed (key in Config.AuthKey,
// Auth 0) but not an IPsec protocol, so sad.New refuses it.
const ProtoTCP sad.Proto = 6

// Op is a setkey command.
type Op uint8

// Commands.
const (
	OpAdd Op = iota + 1
	OpGet
	OpDelete
	OpDeleteAll
	OpFlush
	OpDump
	OpSPDAdd
	OpSPDUpdate
	OpSPDDelete
	OpSPDFlush
	OpSPDDump
)

var opNames = [...]string{"", "add", "get", "delete", "deleteall", "flush", "dump",
	"spdadd", "spdupdate", "spddelete", "spdflush", "spddump"}

// String returns the command's keyword.
func (o Op) String() string {
	if int(o) < len(opNames) && o != 0 {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Dir is a policy's direction.
type Dir uint8

// Directions.
const (
	DirIn Dir = iota + 1
	DirOut
	DirFwd
)

// String returns the direction's keyword.
func (d Dir) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	case DirFwd:
		return "fwd"
	}
	return fmt.Sprintf("dir(%d)", uint8(d))
}

// Action is what a policy does with matching packets; the SPD's own type,
// so parsed policies need no conversion.
type Action = spd.Action

// Actions (the zero value, discard, fails closed).
const (
	ActionDiscard = spd.ActionDiscard
	ActionNone    = spd.ActionNone    // no IPsec processing
	ActionIPsec   = spd.ActionIPsec   // apply the requests
	ActionEntrust = spd.ActionEntrust // consult the system default policy
	ActionBypass  = spd.ActionBypass  // bypass IPsec
)

// Level is how strictly a request's SA is required (the SPD's type).
type Level = spd.Level

// Levels.
const (
	LevelDefault = spd.LevelDefault
	LevelUse     = spd.LevelUse
	LevelRequire = spd.LevelRequire
	LevelUnique  = spd.LevelUnique
)

// Command is one parsed statement.
type Command struct {
	Op     Op
	Line   int       // line the statement starts on
	SA     *SA       // add, get, delete, deleteall (deleteall: SPI 0)
	Policy *Policy   // spdadd, spdupdate, spddelete
	Proto  sad.Proto // flush, dump: 0 = all
}

// SA is an SA statement's values.
type SA struct {
	// Config holds what sad.New needs. Auth is alg.AuthNull when no -A was
	// given; ReplayWindow is in packets (8 x the -r octets).
	Config      sad.Config
	Old         bool   // esp-old / ah-old (RFC 1827 / 1826 formats)
	CompRawCPI  bool   // -C ... -R: the SPI is the CPI on the wire
	PadOption   string // -f zero-pad | random-pad | seq-pad, or ""
	NoCyclicSeq bool   // -f nocyclic-seq
	NATTFragLen int    // -natt_mtu; 0 if not given
	// SrcPort and DstPort are the ports given as src[port] dst[port]
	// (for esp-udp also in Config.NATTSport/NATTDport); 0 if none.
	SrcPort, DstPort uint16
}

// Policy is an SPD statement's values.
type Policy struct {
	Src, Dst         netip.Prefix
	SrcPort, DstPort uint16 // 0 = any
	Proto            int    // upper-layer protocol, -1 = any
	ICMPType         int    // -1 = any
	ICMPCode         int    // -1 = any
	Dir              Dir
	Priority         int32 // as written (higher wins); 0 = default
	Action           Action
	Requests         []Request
}

// WirePriority is the PF_KEY sadb_x_policy_priority value (lower wins).
func (p *Policy) WirePriority() uint32 { return WirePriority(p.Priority) }

// WirePriority converts a written priority into PF_KEY's 0x80000000 - pri.
func WirePriority(pri int32) uint32 { return uint32(int64(0x80000000) - int64(pri)) }

// Request is one protocol/mode/src-dst/level rule of an ipsec policy.
type Request struct {
	Proto            sad.Proto
	Mode             sad.Mode
	Src, Dst         netip.Addr // invalid when left empty
	SrcPort, DstPort uint16     // ipsec-tools [port] for ESP in UDP; 0 = none
	Level            Level
	ReqID            uint32 // unique:reqid
}

// Error is a parse error at a place in the input.
type Error struct {
	File      string
	Line, Col int // 1-based; 0 when unknown
	Msg       string
}

// Error formats the error as "file:line: msg".
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Options tune parsing; the zero value accepts address literals only.
type Options struct {
	// LookupHost resolves a src/dst that is not an address literal, as
	// setkey does with getaddrinfo(3); nil makes host names an error. The
	// -n flag forbids lookups and -4/-6 filter the results.
	LookupHost func(host string) ([]netip.Addr, error)
}

// Parse parses every statement of r; name is used in errors. It returns the
// commands that parsed and all errors joined, each an *Error.
func Parse(name string, r io.Reader) ([]Command, error) {
	return ParseWith(name, r, Options{})
}

// ParseFile parses the file at path.
func ParseFile(path string) ([]Command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// ParseWith is Parse with options.
func ParseWith(name string, r io.Reader, o Options) ([]Command, error) {
	src, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(src) > maxInput {
		return nil, &Error{File: name, Msg: fmt.Sprintf("input larger than %d bytes", maxInput)}
	}
	p := &parser{name: name, opt: o}
	sc := scanner{src: src, line: 1, col: 1}
	for len(p.errs) < maxErrors {
		toks, start, eof, serr := sc.statement()
		if serr != nil {
			serr.File = name
			p.errs = append(p.errs, serr)
			continue
		}
		if len(toks) > 0 {
			p.statement(toks, start, eof)
		}
		if eof {
			break
		}
	}
	if len(p.errs) >= maxErrors {
		p.errs = append(p.errs[:maxErrors], &Error{File: name, Msg: "too many errors"})
	}
	return p.cmds, errors.Join(p.errs...)
}

// token is a word or a quoted string of a statement.
type token struct {
	s         string
	line, col int
	quoted    bool
}

// scanner splits the input into statements of tokens.
type scanner struct {
	src       []byte
	pos       int
	line, col int
}

func (s *scanner) advance() byte {
	c := s.src[s.pos]
	s.pos++
	if c == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	return c
}

// statement returns the tokens up to the next ";" (not included), the line
// the statement starts on, whether the input ended without a ";", and an
// error for an unterminated quote or an oversized statement or token (the
// rest of that statement is skipped).
func (s *scanner) statement() (toks []token, start int, eof bool, err *Error) {
	begin := -1
	fail := func(line, col int, msg string) ([]token, int, bool, *Error) {
		for s.pos < len(s.src) && s.src[s.pos] != ';' {
			s.advance()
		}
		done := s.pos >= len(s.src)
		if !done {
			s.advance()
		}
		return nil, line, done, &Error{Line: line, Col: col, Msg: msg}
	}
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if begin >= 0 && s.pos-begin > maxStatement {
			return fail(toks[0].line, toks[0].col, fmt.Sprintf("statement longer than %d bytes", maxStatement))
		}
		switch {
		case c == ';':
			s.advance()
			if len(toks) > 0 {
				start = toks[0].line
			}
			return toks, start, false, nil
		case c == '#':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.advance()
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.advance()
		case c == '"':
			line, col := s.line, s.col
			s.advance()
			i := bytes.IndexByte(s.src[s.pos:], '"')
			if i < 0 {
				s.pos = len(s.src)
				return nil, line, true, &Error{Line: line, Col: col, Msg: "unterminated quoted string"}
			}
			if i > maxToken {
				return fail(line, col, fmt.Sprintf("quoted string longer than %d bytes", maxToken))
			}
			if begin < 0 {
				begin = s.pos - 1
			}
			text := string(s.src[s.pos : s.pos+i])
			for range i + 1 {
				s.advance()
			}
			toks = append(toks, token{s: text, line: line, col: col, quoted: true})
		default:
			line, col, from := s.line, s.col, s.pos
			for s.pos < len(s.src) && !isSep(s.src[s.pos]) {
				s.advance()
			}
			if s.pos-from > maxToken {
				return fail(line, col, fmt.Sprintf("word longer than %d bytes", maxToken))
			}
			if begin < 0 {
				begin = from
			}
			toks = append(toks, token{s: string(s.src[from:s.pos]), line: line, col: col})
		}
	}
	if len(toks) > 0 {
		start = toks[0].line
	}
	return toks, start, true, nil
}

func isSep(c byte) bool {
	switch c {
	case ';', '#', '"', ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

var commands = map[string]Op{"add": OpAdd, "get": OpGet, "delete": OpDelete, "deleteall": OpDeleteAll,
	"flush": OpFlush, "dump": OpDump, "spdadd": OpSPDAdd, "spdupdate": OpSPDUpdate,
	"spddelete": OpSPDDelete, "spdflush": OpSPDFlush, "spddump": OpSPDDump}

// parser holds the results of one input.
type parser struct {
	name string
	opt  Options
	cmds []Command
	errs []error
}

// statement parses one statement's tokens. A command keyword first on its
// line inside a statement means the previous statement lacks its ";".
func (p *parser) statement(toks []token, start int, eof bool) {
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if _, ok := commands[t.s]; ok && !t.quoted && t.line != toks[i-1].line {
			prev := toks[i-1]
			p.errs = append(p.errs, &Error{File: p.name, Line: prev.line, Col: prev.col + len(prev.s),
				Msg: fmt.Sprintf("missing \";\" (next statement %q starts on line %d)", t.s, t.line)})
			p.statement(toks[i:], t.line, eof)
			return
		}
	}
	if eof {
		last := toks[len(toks)-1]
		p.errs = append(p.errs, &Error{File: p.name, Line: last.line, Col: last.col + len(last.s),
			Msg: fmt.Sprintf("missing \";\" at end of input (statement starts on line %d)", start)})
		return
	}
	st := &stmt{p: p, toks: toks}
	cmds, err := st.parse()
	if err != nil {
		err.File = p.name
		p.errs = append(p.errs, err)
		return
	}
	for i := range cmds {
		cmds[i].Line = start
	}
	if len(p.cmds)+len(cmds) > maxCommands {
		p.errs = append(p.errs, &Error{File: p.name, Line: start, Msg: fmt.Sprintf("more than %d commands", maxCommands)})
		return
	}
	p.cmds = append(p.cmds, cmds...)
}

// stmt is the cursor over one statement's tokens.
type stmt struct {
	p    *parser
	toks []token
	i    int
}

func (s *stmt) peek() *token {
	if s.i < len(s.toks) {
		return &s.toks[s.i]
	}
	return nil
}

func (s *stmt) next() *token {
	t := s.peek()
	if t != nil {
		s.i++
	}
	return t
}

// errAt makes an error at t, or at the end of the statement if t is nil.
func (s *stmt) errAt(t *token, format string, args ...any) *Error {
	if t == nil {
		last := s.toks[len(s.toks)-1]
		return &Error{Line: last.line, Col: last.col + len(last.s), Msg: fmt.Sprintf(format, args...)}
	}
	return &Error{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// need returns the next token or an error naming what was expected.
func (s *stmt) need(what string) (*token, *Error) {
	t := s.next()
	if t == nil {
		return nil, s.errAt(nil, "missing %s", what)
	}
	return t, nil
}

// end fails if tokens remain.
func (s *stmt) end() *Error {
	if t := s.peek(); t != nil {
		return s.errAt(t, "unexpected %s", quote(t))
	}
	return nil
}

func quote(t *token) string {
	s := t.s
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func (s *stmt) parse() ([]Command, *Error) {
	t := s.next()
	op, ok := commands[t.s]
	if !ok || t.quoted {
		return nil, s.errAt(t, "unknown command %s", quote(t))
	}
	switch op {
	case OpAdd, OpGet, OpDelete, OpDeleteAll:
		return s.saCommand(op)
	case OpFlush, OpDump:
		c := Command{Op: op}
		if s.peek() != nil {
			pt := s.next()
			pr, ok := protocols[pt.s]
			if !ok || pt.quoted {
				return nil, s.errAt(pt, "unknown protocol %s", quote(pt))
			}
			c.Proto = pr.proto
		}
		return []Command{c}, s.end()
	case OpSPDFlush, OpSPDDump:
		return []Command{{Op: op}}, s.end()
	}
	return s.spdCommand(op)
}

// family is the -4/-6/-n state of a statement.
type family struct {
	v4, v6, numeric bool
}

// flags consumes -4, -6, -n and combinations such as -4n.
func (s *stmt) flags() family {
	var f family
	for t := s.peek(); t != nil && !t.quoted && len(t.s) > 1 && t.s[0] == '-' &&
		strings.Trim(t.s[1:], "46n") == ""; t = s.peek() {
		for _, c := range t.s[1:] {
			switch c {
			case '4':
				f.v4, f.v6 = true, false
			case '6':
				f.v4, f.v6 = false, true
			case 'n':
				f.numeric = true
			}
		}
		s.next()
	}
	return f
}

// addrWord returns the next token joined with following "/len" or "[port]"
// tokens written apart.
func (s *stmt) addrWord(what string) (*token, string, *Error) {
	t, err := s.need(what)
	if err != nil {
		return nil, "", err
	}
	if t.quoted || (t.s[0] == '-' && len(t.s) > 1) {
		return nil, "", s.errAt(t, "bad %s %s", what, quote(t))
	}
	w := t.s
	for n := s.peek(); n != nil && !n.quoted && (n.s[0] == '/' || n.s[0] == '[') && len(w) < maxToken; n = s.peek() {
		w += n.s
		s.next()
	}
	return t, w, nil
}

// splitAddr splits "host[/len][[port]]".
func splitAddr(w string) (host, plen, port string, hasPlen, hasPort bool, ok bool) {
	if i := strings.IndexByte(w, '['); i >= 0 {
		if !strings.HasSuffix(w, "]") || strings.Count(w, "[") != 1 {
			return "", "", "", false, false, false
		}
		port, hasPort = w[i+1:len(w)-1], true
		w = w[:i]
	}
	if i := strings.IndexByte(w, '/'); i >= 0 {
		plen, hasPlen = w[i+1:], true
		w = w[:i]
	}
	return w, plen, port, hasPlen, hasPort, w != ""
}

// parsePort parses a decimal port or "any" (0).
func parsePort(s string) (uint16, bool) {
	if s == "any" {
		return 0, true
	}
	n, ok := parseDec(s, 65535)
	return uint16(n), ok
}

// parseDec parses a decimal number no larger than max.
func parseDec(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// parseNum parses a decimal or 0x hex number no larger than max.
func parseNum(s string, max uint64) (uint64, bool) {
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		h := strings.TrimLeft(s[2:], "0")
		if len(h) > 16 {
			return 0, false
		}
		var n uint64
		for i := 0; i < len(h); i++ {
			d, ok := unhex(h[i])
			if !ok {
				return 0, false
			}
			n = n<<4 | uint64(d)
		}
		return n, n <= max
	}
	return parseDec(s, max)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hosts resolves a host part to addresses of the statement's family.
func (s *stmt) hosts(t *token, host string, f family) ([]netip.Addr, *Error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if (f.v4 && !a.Is4()) || (f.v6 && !a.Is6()) {
			return nil, s.errAt(t, "address %q does not match -%s", host, map[bool]string{true: "4", false: "6"}[f.v4])
		}
		return []netip.Addr{a}, nil
	}
	if !isHostName(host) {
		return nil, s.errAt(t, "bad address %q", host)
	}
	if s.p.opt.LookupHost == nil || f.numeric {
		return nil, s.errAt(t, "bad address %q: host names are not resolved here, write a numeric address", host)
	}
	res, err := s.p.opt.LookupHost(host)
	if err != nil {
		return nil, s.errAt(t, "cannot resolve %q: %v", host, err)
	}
	var out []netip.Addr
	for _, a := range res {
		a = a.Unmap()
		if (f.v4 && !a.Is4()) || (f.v6 && !a.Is6()) {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, s.errAt(t, "%q has no address of the requested family", host)
	}
	return out, nil
}

// isHostName reports whether h looks like a DNS name.
func isHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return h[0] != '-' && h[0] != '.'
}
