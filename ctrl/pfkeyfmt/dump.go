package pfkeyfmt

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// Printer formats messages of one dialect. The zero value prints FreeBSD
// messages with the local time zone and the real clock.
type Printer struct {
	Dialect pfkey.Dialect    // how the message was decoded (0 = FreeBSD)
	Now     func() time.Time // clock for "current:" and "diff:"; nil = time.Now
	Loc     *time.Location   // zone for dates; nil = time.Local
}

func (p *Printer) dialect() pfkey.Dialect {
	if p.Dialect == 0 {
		return pfkey.FreeBSD
	}
	return p.Dialect
}

func (p *Printer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// date is ctime(3) without the weekday and newline, 20 characters; all
// blanks for 0 (never), as setkey prints it.
func (p *Printer) date(unix uint64) string {
	if unix == 0 {
		return strings.Repeat(" ", 20)
	}
	loc := p.Loc
	if loc == nil {
		loc = time.Local
	}
	return time.Unix(int64(unix), 0).In(loc).Format("Jan _2 15:04:05 2006")
}

// SA writes an SA as `setkey -D` does (pfkey_sadump): the reply to
// SADB_DUMP or SADB_GET.
func (p *Printer) SA(w io.Writer, m *pfkey.Msg) {
	b := &strings.Builder{}
	p.sa(b, m)
	io.WriteString(w, b.String())
}

func (p *Printer) sa(b *strings.Builder, m *pfkey.Msg) {
	natt := m.NATTType != nil
	if m.Src == nil {
		b.WriteString("no ADDRESS_SRC extension.\n")
		return
	}
	b.WriteString(addrString(m.Src.Addr.Addr()))
	if natt && m.NATTSport != nil {
		fmt.Fprintf(b, "[%d]", m.NATTSport.Port)
	}
	if m.Dst == nil {
		b.WriteString("\nno ADDRESS_DST extension.\n")
		return
	}
	b.WriteString(" " + addrString(m.Dst.Addr.Addr()))
	if natt && m.NATTDport != nil {
		fmt.Fprintf(b, "[%d]", m.NATTDport.Port)
	}
	if m.SA == nil {
		b.WriteString("\nno SA extension.\n")
		return
	}
	if m.SA2 == nil {
		b.WriteString("\nno SA2 extension.\n")
		return
	}
	b.WriteString("\n\t")
	if m.SAType == pfkey.SATypeESP && natt {
		b.WriteString("esp-udp ")
	} else {
		b.WriteString(satypeName(m.SAType) + " ")
	}
	fmt.Fprintf(b, "mode=%s ", nameOr(modeNames[:], int(m.SA2.Mode)))
	fmt.Fprintf(b, "spi=%d(0x%08x) reqid=%d(0x%08x)\n", m.SA.SPI, m.SA.SPI, m.SA2.ReqID, m.SA2.ReqID)

	if natt && (m.NATTOAI != nil || m.NATTOAR != nil) {
		b.WriteString("\tNAT:")
		if m.NATTOAI != nil {
			b.WriteString(" OAI=" + addrString(m.NATTOAI.Addr.Addr()))
		}
		if m.NATTOAR != nil {
			b.WriteString(" OAR=" + addrString(m.NATTOAR.Addr.Addr()))
		}
		b.WriteString("\n")
	}

	switch {
	case m.SAType == pfkey.SATypeIPComp:
		// FreeBSD ends this line without a newline; so do we.
		b.WriteString("\tC: " + compName(m.SA.Encrypt) + " ")
	case m.SAType == pfkey.SATypeESP && m.EncKey != nil:
		b.WriteString("\tE: " + p.encName(m.SA.Encrypt) + " ")
		hexdump(b, keyBytes(m.EncKey))
		b.WriteString("\n")
	}
	if m.AuthKey != nil {
		b.WriteString("\tA: " + p.authName(m.SA.Auth) + " ")
		hexdump(b, keyBytes(m.AuthKey))
		b.WriteString("\n")
	}

	// FreeBSD prints the window in octets (SA_REPLAY's packets >> 3); a
	// Linux sadb_sa_replay counts packets and is converted.
	replay := uint32(m.SA.Replay)
	switch {
	case p.dialect() == pfkey.Linux:
		replay = (replay + 7) / 8
	case m.SAReplay != nil:
		replay = m.SAReplay.Replay >> 3
	}
	fmt.Fprintf(b, "\tseq=0x%08x replay=%d flags=0x%08x ", m.SA2.Sequence, replay, m.SA.Flags)
	fmt.Fprintf(b, "state=%s \n", nameOr(stateNames[:], int(m.SA.State)))

	if c := m.LifetimeCurrent; c != nil {
		now := p.now()
		hard, soft := m.LifetimeHard, m.LifetimeSoft
		if hard == nil {
			hard = &pfkey.Lifetime{}
		}
		if soft == nil {
			soft = &pfkey.Lifetime{}
		}
		fmt.Fprintf(b, "\tcreated: %s", p.date(c.AddTime))
		fmt.Fprintf(b, "\tcurrent: %s\n", p.date(uint64(now.Unix())))
		var diff uint64
		if c.AddTime != 0 {
			diff = uint64(now.Unix()) - c.AddTime
		}
		fmt.Fprintf(b, "\tdiff: %d(s)\thard: %d(s)\tsoft: %d(s)\n", diff, hard.AddTime, soft.AddTime)
		fmt.Fprintf(b, "\tlast: %s\thard: %d(s)\tsoft: %d(s)\n", p.date(c.UseTime), hard.UseTime, soft.UseTime)
		lifetimeBytes(b, "current", m.LifetimeCurrent)
		lifetimeBytes(b, "hard", m.LifetimeHard)
		lifetimeBytes(b, "soft", m.LifetimeSoft)
		b.WriteString("\n")
		fmt.Fprintf(b, "\tallocated: %d\thard: %d\tsoft: %d\n", c.Allocations, hard.Allocations, soft.Allocations)
	}
	fmt.Fprintf(b, "\tsadb_seq=%d pid=%d refcnt=%d\n", m.Seq, m.PID, m.Reserved)
}

// lifetimeBytes prints "\t<name>: N(bytes)" as setkey's %.0f does.
func lifetimeBytes(b *strings.Builder, name string, l *pfkey.Lifetime) {
	var n uint64
	if l != nil {
		n = l.Bytes
	}
	fmt.Fprintf(b, "\t%s: %s(bytes)", name, strconv.FormatFloat(float64(n), 'f', 0, 64))
}

// Policy writes a policy as `setkey -DP` does (pfkey_spdump): the reply to
// SADB_X_SPDDUMP or SADB_X_SPDGET.
func (p *Printer) Policy(w io.Writer, m *pfkey.Msg) {
	b := &strings.Builder{}
	p.policy(b, m)
	io.WriteString(w, b.String())
}

func (p *Printer) policy(b *strings.Builder, m *pfkey.Msg) {
	if m.Src != nil && m.Dst != nil {
		proto := m.Src.Proto
		sport, dport := m.Src.Addr.Port(), m.Dst.Addr.Port()
		b.WriteString(addrString(m.Src.Addr.Addr()) + prefPort(m.Src, sport, proto) + " ")
		b.WriteString(addrString(m.Dst.Addr.Addr()) + prefPort(m.Dst, dport, proto) + " ")
		if m.Src.Proto != m.Dst.Proto {
			b.WriteString("upper layer protocol mismatched.\n")
			return
		}
		upperSpec(b, proto, sport, dport)
	} else {
		b.WriteString("(no selector, probably per-socket policy) ")
	}
	if m.Policy == nil {
		b.WriteString("no X_POLICY extension.\n")
		return
	}
	b.WriteString("\n\t" + PolicyString(m.Policy, "\n\t") + "\n")
	if c := m.LifetimeCurrent; c != nil {
		fmt.Fprintf(b, "\tcreated: %s  lastused: %s\n", p.date(c.AddTime), p.date(c.UseTime))
	}
	if h := m.LifetimeHard; h != nil {
		fmt.Fprintf(b, "\tlifetime: %d(s) validtime: %d(s)\n", h.AddTime, h.UseTime)
	}
	scope := m.Policy.Scope
	if p.dialect() == pfkey.Linux {
		scope = pfkey.ScopeGlobal // Linux has no scope field; its SPD is global
	}
	fmt.Fprintf(b, "\tspid=%d seq=%d pid=%d scope=%s \n", m.Policy.ID, m.Seq, m.PID, scopeName(scope))
	fmt.Fprintf(b, "\trefcnt=%d\n", m.Reserved)
}

// PolicyString renders a policy extension as ipsec_dump_policy(3) does:
// "out ipsec" then each request after delim ("esp/tunnel/a-b/require").
func PolicyString(pol *pfkey.Policy, delim string) string {
	b := &strings.Builder{}
	b.WriteString(nameOr(dirNames[:], int(pol.Dir)))
	if pr := priorityString(pol); pr != "" {
		b.WriteString(" " + pr)
	}
	b.WriteString(" " + nameOr(policyNames[:], int(pol.Type)))
	if pol.Type != pfkey.PolicyIPsec {
		return b.String()
	}
	for _, r := range pol.Requests {
		b.WriteString(delim + RequestString(r))
	}
	return b.String()
}

// RequestString renders one ipsecrequest: proto/mode/src-dst/level, with
// ":reqid" (or "#reqid" above IPSEC_MANUAL_REQID_MAX) after the level.
func RequestString(r pfkey.IPsecRequest) string {
	var addrs string
	if r.Src.IsValid() && r.Dst.IsValid() {
		addrs = addrString(r.Src.Addr()) + "-" + addrString(r.Dst.Addr())
	}
	s := fmt.Sprintf("%s/%s/%s/%s", protoName(r.Proto), nameOr(modeNames[:], int(r.Mode)), addrs,
		nameOr(levelNames[:], int(r.Level)))
	if r.ReqID != 0 {
		sep := ":"
		if r.ReqID > manualReqIDMax {
			sep = "#"
		}
		s += sep + strconv.FormatUint(uint64(r.ReqID), 10)
	}
	return s
}

// manualReqIDMax is IPSEC_MANUAL_REQID_MAX: reqids above it were chosen by
// the kernel, not written in a policy.
const manualReqIDMax = 0x3fff

// Priorities of ipsec-tools' "prio low|def|high" (libpfkey.h).
const (
	priorityHigh    = 0x40000000
	priorityDefault = 0x80000000
	priorityLow     = 0xC0000000
)

// priorityString is ipsec-tools' "prio def + 10" for a priority other than
// the default, "" for the default (and for 0, which FreeBSD leaves there).
func priorityString(pol *pfkey.Policy) string {
	pr := pol.Priority
	if pr == 0 || pr == priorityDefault || pol.Scope == pfkey.ScopeIfnet {
		return ""
	}
	var base string
	var off int64
	switch {
	case pr < priorityDefault/4*3:
		base, off = "high", int64(pr)-priorityHigh
	case pr < priorityDefault/4*5:
		base, off = "def", int64(pr)-priorityDefault
	default:
		base, off = "low", int64(pr)-priorityLow
	}
	off = -off // a lower number is a higher priority, written with +
	switch {
	case off > 0:
		return fmt.Sprintf("prio %s + %d", base, off)
	case off < 0:
		return fmt.Sprintf("prio %s - %d", base, -off)
	}
	return "prio " + base
}

// prefPort is setkey's "/prefixlen[port]": the prefix only when shorter
// than the address, the port as [any] for 0, and nothing for ICMPv6 (its
// type and code follow the upper-layer protocol instead).
func prefPort(a *pfkey.Address, port uint16, proto uint8) string {
	var s string
	if int(a.PrefixLen) != a.Addr.Addr().BitLen() {
		s = "/" + strconv.Itoa(int(a.PrefixLen))
	}
	switch {
	case proto == ipprotoICMPv6:
	case port == 0:
		s += "[any]"
	default:
		s += "[" + strconv.Itoa(int(port)) + "]"
	}
	return s
}

const (
	ipprotoIPv4   = 4
	ipprotoICMPv6 = 58
)

// upperSpec prints the upper-layer protocol as str_upperspec does.
func upperSpec(b *strings.Builder, proto uint8, sport, dport uint16) {
	switch proto {
	case pfkey.ProtoAny:
		b.WriteString("any")
	case ipprotoICMPv6:
		b.WriteString("icmp6")
		if sport != 0 || dport != 0 {
			fmt.Fprintf(b, " %d,%d", sport, dport)
		}
	case ipprotoIPv4:
		b.WriteString("ip4")
	default:
		if n, ok := protocolNames[proto]; ok {
			b.WriteString(n)
		} else {
			b.WriteString(strconv.Itoa(int(proto)))
		}
	}
}

// protocolNames are FreeBSD's /etc/protocols names (getprotobynumber).
var protocolNames = map[uint8]string{
	0: "ip", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
	50: "esp", 51: "ah", 94: "ipip", 103: "pim", 108: "ipcomp", 112: "vrrp",
	132: "sctp", 136: "udplite",
}

// hexdump is ipsec_hexdump: a space before every 4 bytes, a newline
// every 32.
func hexdump(b *strings.Builder, data []byte) {
	for i, c := range data {
		if i != 0 && i%32 == 0 {
			b.WriteString("\n")
		}
		if i%4 == 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(b, "%02x", c)
	}
}

// keyBytes is the key as setkey prints it: sadb_key_bits/8 bytes.
func keyBytes(k *pfkey.Key) []byte {
	n := int(k.Bits) / 8
	if n > len(k.Data) {
		n = len(k.Data)
	}
	return k.Data[:n]
}

// addrString is getnameinfo(NI_NUMERICHOST) of a sockaddr.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "(invalid)"
	}
	return a.Unmap().WithZone("").String()
}

var (
	modeNames   = [...]string{"any", "transport", "tunnel"}
	stateNames  = [...]string{"larval", "mature", "dying", "dead"}
	dirNames    = [...]string{"any", "in", "out", "fwd"}
	policyNames = [...]string{"discard", "none", "ipsec", "entrust", "bypass"}
	levelNames  = [...]string{"default", "use", "require", "unique"}
	satypeNames = [...]string{"unspec", "unknown", "ah", "esp", "unknown", "rsvp", "ospfv2",
		"ripv2", "mip", "ipcomp", "policy", "tcp"}
	compNames = [...]string{"none", "oui", "deflate", "lzs"}
)

// nameOr is setkey's GETMSGSTR: the table's name, or the number.
func nameOr(names []string, n int) string {
	if n >= 0 && n < len(names) {
		return names[n]
	}
	return strconv.Itoa(n)
}

func satypeName(t pfkey.SAType) string { return nameOr(satypeNames[:], int(t)) }

func compName(n uint8) string { return nameOr(compNames[:], int(n)) }

func protoName(p uint16) string {
	switch p {
	case pfkey.ProtoESP:
		return "esp"
	case pfkey.ProtoAH:
		return "ah"
	case pfkey.ProtoIPComp:
		return "ipcomp"
	}
	return strconv.Itoa(int(p))
}

func scopeName(s uint8) string {
	switch s {
	case pfkey.ScopeGlobal:
		return "global"
	case pfkey.ScopeIfnet:
		return "ifnet"
	case scopePCB:
		return "pcb"
	}
	return strconv.Itoa(int(s))
}

// scopePCB is IPSEC_POLICYSCOPE_PCB.
const scopePCB = 4

// encName names sadb_sa_encrypt: "none" for 0, the registry's name, or the
// number.
func (p *Printer) encName(n uint8) string {
	if n == pfkey.EAlgNone {
		return "none"
	}
	if id, ok := pfkey.EncAlgFromWire(p.dialect(), n); ok {
		return id.String()
	}
	return strconv.Itoa(int(n))
}

// authName names sadb_sa_auth likewise ("null" is SADB_X_AALG_NULL).
func (p *Printer) authName(n uint8) string {
	switch n {
	case pfkey.AAlgNone:
		return "none"
	case pfkey.AAlgNull:
		return "null"
	case pfkey.AAlgTCPMD5:
		return "tcp-md5"
	}
	if id, ok := pfkey.AuthAlgFromWire(p.dialect(), n); ok {
		return id.String()
	}
	return strconv.Itoa(int(n))
}

// Header writes kdebug_sadb's description of the base header, as setkey -v
// and -x print before a message.
func Header(w io.Writer, h pfkey.Header) {
	fmt.Fprintf(w, "sadb_msg{ version=%d type=%d errno=%d satype=%d\n", h.Version, h.Type, uint8(h.Errno), h.SAType)
	fmt.Fprintf(w, "  len=%d reserved=%d seq=%d pid=%d\n", h.Len, h.Reserved, h.Seq, h.PID)
}
