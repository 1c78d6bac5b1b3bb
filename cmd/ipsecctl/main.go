// Command ipsecctl talks to a running ipsecd through its admin socket.
//
//	ipsecctl [-s SOCKET] sysctl [-n] NAME...                read knobs ("name: value")
//	ipsecctl [-s SOCKET] sysctl [-w] NAME=VALUE...          set knobs, all or none ("name: old -> new")
//	ipsecctl [-s SOCKET] sysctl -a                          every knob
//	ipsecctl [-s SOCKET] stats [-j]                         counters (text, or JSON with -j)
//	ipsecctl [-s SOCKET] enc rules                          enc0 filter rules with their matches
//	ipsecctl [-s SOCKET] enc set FILE                       replace the rules (FILE "-": stdin)
//	ipsecctl [-s SOCKET] capture enc0 -w FILE [-c N] [-s SNAPLEN] [-F pcapng|pcap]
//
// A capture is written as pcapng (default: each packet's direction in its
// block flags) or classic pcap, with LINKTYPE_ENC: every packet starts
// with the enc header carrying the SPI, so tcpdump and Wireshark show
// both. "-w -" writes to standard output (ipsecctl capture enc0 -w - | tcpdump -r -).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fastipsec/fastipsec/ctrl/admin"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ipsecctl:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: ipsecctl [-s SOCKET] COMMAND
  sysctl [-n] NAME...            read knobs
  sysctl [-w] NAME=VALUE...      set knobs (all or none)
  sysctl -a                      every knob
  stats [-j]                     counters
  enc rules                      enc0 filter rules and their matches
  enc set FILE                   replace the enc0 rules (FILE "-": stdin)
  capture enc0 -w FILE [-c COUNT] [-s SNAPLEN] [-F pcapng|pcap]`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ipsecctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("s", admin.DefaultSocket, "admin `socket` of ipsecd")
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no command")
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	dial := func() (*admin.Client, error) {
		c, err := admin.Dial(*sock)
		if err != nil {
			return nil, fmt.Errorf("%w (is ipsecd running? -s names its admin socket)", err)
		}
		return c, nil
	}
	switch cmd {
	case "sysctl":
		return runSysctl(dial, rest, stdout, stderr)
	case "stats":
		return runStats(dial, rest, stdout, stderr)
	case "enc":
		return runEnc(dial, rest, stdin, stdout, stderr)
	case "capture":
		return runCapture(dial, rest, stdout, stderr)
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}
