// Command setkey is FreeBSD's setkey(8) for ipsecd: it speaks PF_KEY over
// ipsecd's Unix socket instead of a kernel PF_KEY socket.
//
//	setkey [-v] -c                  commands from stdin
//	setkey [-v] -f file             commands from a file
//	setkey [-Pav] -D                dump the SAD (-P: the SPD)
//	setkey [-Pv] -F                 flush the SAD (-P: the SPD)
//	setkey [-h] -x                  monitor every PF_KEY message (-xx: Unix times)
//	  -S socket                     the PF_KEY socket (default $PFKEY_SOCKET,
//	                                else /run/ipsecd/pfkey.sock)
//
// The flow is FreeBSD's: a script is parsed (config/setkey), every SA type
// it uses is REGISTERed and the SUPPORTED lists awaited, then each command
// is sent and its replies read until one with seq 0, each reply within one
// second. Dumps print in FreeBSD's format (ctrl/pfkeyfmt). Unlike
// FreeBSD, a script with a syntax error sends nothing, and the exit status
// is 1 when any command failed ("The result of line N: File exists.").
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ctrl/pfkeyfmt"
)

// DefaultSocket is ipsecd's PF_KEY socket unless configured otherwise.
const DefaultSocket = "/run/ipsecd/pfkey.sock"

// Seams for tests: the sadb_msg_pid sent, and the clock and zone of dates.
var (
	pid          = func() uint32 { return uint32(os.Getpid()) }
	clock        = time.Now
	zone         *time.Location // nil: local time
	replyTimeout = time.Second  // setkey's SO_RCVTIMEO
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the parsed command line.
type options struct {
	mode    byte // 'c' or 'f' (script), 'D', 'F', 'x'
	file    string
	policy  bool // -P
	all     bool // -a: dead SAs too
	verbose bool // -v
	hex     bool // -h
	tflag   int  // number of -x
	socket  string
}

const usage = `usage: setkey [-v] [-S socket] -c
       setkey [-v] [-S socket] -f filename
       setkey [-Pav] [-S socket] -D
       setkey [-Pv] [-S socket] -F
       setkey [-h] [-S socket] -x
`

// parseArgs reads getopt(3)-style flags: "-DP" is "-D -P", "-ffile" and
// "-f file" are the same.
func parseArgs(args []string) (*options, error) {
	o := &options{socket: os.Getenv("PFKEY_SOCKET")}
	if o.socket == "" {
		o.socket = DefaultSocket
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			if i < len(args) {
				return nil, fmt.Errorf("unexpected argument %q", args[i])
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		for j := 1; j < len(a); j++ {
			switch f := a[j]; f {
			case 'c', 'D', 'F':
				o.mode = f
			case 'x':
				o.mode = 'x'
				o.tflag++
			case 'P':
				o.policy = true
			case 'a':
				o.all = true
			case 'v':
				o.verbose = true
			case 'h':
				o.hex = true
			case 'f', 'S':
				v := a[j+1:]
				if v == "" {
					i++
					if i == len(args) {
						return nil, fmt.Errorf("option -%c needs an argument", f)
					}
					v = args[i]
				}
				if f == 'f' {
					o.mode, o.file = 'f', v
				} else {
					o.socket = v
				}
				j = len(a)
			default:
				return nil, fmt.Errorf("unknown option -%c", f)
			}
		}
	}
	if o.mode == 0 {
		return nil, errors.New("no command (-c, -f, -D, -F or -x)")
	}
	return o, nil
}

// run is main with its environment passed in; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "setkey: %v\n%s", err, usage)
		return 1
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()

	// A script is parsed whole before anything is sent.
	var cmds []setkey.Command
	if o.mode == 'c' || o.mode == 'f' {
		name, r := "(stdin)", stdin
		if o.mode == 'f' {
			f, err := os.Open(o.file)
			if err != nil {
				fmt.Fprintf(stderr, "setkey: %v\n", err)
				return 1
			}
			defer f.Close()
			name, r = o.file, f
		}
		cmds, err = setkey.ParseWith(name, r, setkey.Options{LookupHost: lookupHost})
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
	}

	c, err := dial(o.socket, out)
	if err != nil {
		fmt.Fprintf(stderr, "setkey: pfkey_open: %v\n", err)
		return 1
	}
	defer c.Close()
	c.hexdump = o.hex
	if o.verbose {
		c.verbose = out
	}

	switch o.mode {
	case 'D':
		return dump(c, o, out)
	case 'F':
		m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgFlush}}
		if o.policy {
			m.Type = pfkey.MsgSPDFlush
		}
		if err := c.exchange(m, nil); err != nil {
			fmt.Fprintf(out, "%s.\n", errText(err))
			return 1
		}
		return 0
	case 'x':
		return promisc(c, o, out, stderr)
	}
	return script(c, o, cmds, out)
}

// dump is -D and -DP. An empty SAD or SPD is not an error.
func dump(c *client, o *options, out *bufio.Writer) int {
	m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgDump}}
	if o.policy {
		m.Type = pfkey.MsgSPDDump
	}
	err := c.exchange(m, func(r *pfkey.Msg, d pfkey.Dialect) { printReply(out, o, r, d) })
	if err != nil {
		fmt.Fprintf(out, "%s.\n", errText(err))
		if emptyDump(err) {
			return 0
		}
		return 1
	}
	return 0
}

// printReply prints what setkey prints for a reply: an SA for GET and DUMP
// (DEAD ones only with -a), a policy for SPDDUMP and SPDGET.
func printReply(w io.Writer, o *options, r *pfkey.Msg, d pfkey.Dialect) {
	p := &pfkeyfmt.Printer{Dialect: d, Now: clock, Loc: zone}
	switch r.Type {
	case pfkey.MsgGet:
		p.SA(w, r)
	case pfkey.MsgDump:
		if !o.all && r.SA != nil && r.SA.State == pfkey.SAStateDead {
			return
		}
		p.SA(w, r)
	case pfkey.MsgSPDDump, pfkey.MsgSPDGet:
		p.Policy(w, r)
	}
}

// script runs parsed commands: REGISTER for every SA type first, then each
// command; failures print "The result of line N: ..." and make the exit
// status 1, as the rest still runs.
func script(c *client, o *options, cmds []setkey.Command, out *bufio.Writer) int {
	defer wipeCommands(cmds)
	status := 0
	for _, st := range saTypes(cmds) {
		if err := register(c, st); err != nil {
			fmt.Fprintf(out, "setkey: REGISTER of SA type %d: %s.\n", st, errText(err))
			return 1
		}
	}
	for _, cmd := range cmds {
		m, err := request(c.dialect, cmd)
		if err == nil {
			err = c.exchange(m, func(r *pfkey.Msg, d pfkey.Dialect) { printReply(out, o, r, d) })
			m.WipeKeys()
		}
		if err != nil {
			fmt.Fprintf(out, "The result of line %d: %s.\n", cmd.Line, errText(err))
			if !emptyDump(err) {
				status = 1
			}
		}
	}
	return status
}

// wipeCommands zeroes the keys the parsed script holds.
func wipeCommands(cmds []setkey.Command) {
	for _, cmd := range cmds {
		if cmd.SA != nil {
			clear(cmd.SA.Config.EncKey)
			clear(cmd.SA.Config.AuthKey)
		}
	}
}

// saTypes lists the SA types the SA commands use, in first-use order.
func saTypes(cmds []setkey.Command) []pfkey.SAType {
	var out []pfkey.SAType
	seen := map[pfkey.SAType]bool{}
	for _, cmd := range cmds {
		if cmd.SA == nil || cmd.SA.Config.Proto == setkey.ProtoTCP {
			continue
		}
		st, err := satype(cmd.SA.Config.Proto)
		if err != nil || seen[st] {
			continue
		}
		seen[st] = true
		out = append(out, st)
	}
	return out
}

// register sends SADB_REGISTER for st and waits for the reply carrying the
// SUPPORTED lists, as libipsec's pfkey_recv_register does.
func register(c *client, st pfkey.SAType) error {
	m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgRegister, SAType: st}}
	got := false
	err := c.exchange(m, func(r *pfkey.Msg, _ pfkey.Dialect) {
		got = r.SupportedAuth != nil || r.SupportedEncrypt != nil
	})
	if err == nil && !got {
		err = errors.New("no SUPPORTED extension in the reply")
	}
	return err
}

// promisc is -x: every message the server sends or receives, wrapped in
// SADB_X_PROMISC, printed with a timestamp until the connection ends.
func promisc(c *client, o *options, out *bufio.Writer, stderr io.Writer) int {
	m := &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgPromisc, SAType: 1}}
	if err := c.send(m); err != nil {
		fmt.Fprintf(stderr, "setkey: send: %v\n", err)
		return 1
	}
	c.timeout = 0
	for {
		b, err := c.readRaw()
		if err != nil {
			fmt.Fprintf(stderr, "setkey: recv: %v\n", err)
			return 1
		}
		printDate(out, o.tflag, clock())
		if o.hex {
			hexLines(out, b)
		}
		inner := b
		if b[1] == byte(pfkey.MsgPromisc) {
			inner = b[pfkey.HeaderLen:]
		}
		if len(inner) >= pfkey.HeaderLen {
			printMonitored(out, inner, c.dialect)
		}
		clear(b)
		out.Flush()
	}
}

// printMonitored prints one monitored message: kdebug_sadb's header, then
// the SA or policy it carries in the dump format.
func printMonitored(w io.Writer, b []byte, def pfkey.Dialect) {
	d, ok := pfkey.DetectDialect(b)
	if !ok {
		d = def
	}
	m, err := pfkey.Decode(d, b)
	if err != nil {
		h, herr := pfkey.ParseHeader(b)
		if herr == nil {
			pfkeyfmt.Header(w, h)
		}
		fmt.Fprintf(w, "(undecodable: %v)\n\n", err)
		return
	}
	defer m.WipeKeys()
	pfkeyfmt.Header(w, m.Header)
	p := &pfkeyfmt.Printer{Dialect: d, Now: clock, Loc: zone}
	switch {
	case m.Policy != nil:
		p.Policy(w, m)
	case m.SA != nil && m.Src != nil:
		p.SA(w, m)
	}
	fmt.Fprintln(w)
}

// printDate is setkey's timestamp line: the local time of day with
// microseconds for -x, Unix seconds for -xx.
func printDate(w io.Writer, tflag int, t time.Time) {
	if zone != nil {
		t = t.In(zone)
	}
	if tflag > 1 {
		fmt.Fprintf(w, "%d.%06d \n", t.Unix(), t.Nanosecond()/1000)
		return
	}
	fmt.Fprintf(w, "%s.%06d \n", t.Format("15:04:05"), t.Nanosecond()/1000)
}

// emptyDump reports whether err is the ENOENT of a dump of an empty SAD or
// SPD, which is no failure.
func emptyDump(err error) bool {
	var re *replyError
	return errors.As(err, &re) && re.Errno == syscall.ENOENT &&
		(re.Type == pfkey.MsgDump || re.Type == pfkey.MsgSPDDump)
}

// errText is the error as setkey words it (without the trailing period).
func errText(err error) string {
	var re *replyError
	if errors.As(err, &re) {
		return re.Error()
	}
	return strings.TrimSuffix(err.Error(), ".")
}

// lookupHost resolves names in a script as setkey's getaddrinfo does.
func lookupHost(host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}
