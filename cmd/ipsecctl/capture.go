package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ports/pcap"
)

// runCapture writes enc0's packets to a file: capture enc0 -w FILE [-c N].
func runCapture(dial func() (*admin.Client, error), args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("w", "", "write packets to `file` (\"-\": standard output)")
	count := fs.Int("c", 0, "stop after `count` packets (0: until interrupted)")
	snap := fs.Int("s", 0, "bytes kept of each packet (0: 2048)")
	format := fs.String("F", "pcapng", "file format: pcapng (with directions) or pcap")
	iface := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		iface, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if iface == "" && fs.NArg() > 0 {
		iface = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("capture: unexpected %q", fs.Arg(0))
	}
	switch {
	case iface == "":
		return errors.New("capture: interface required (enc0)")
	case *file == "":
		return errors.New("capture: -w FILE required")
	case *count < 0:
		return errors.New("capture: -c must be >= 0")
	case *format != "pcapng" && *format != "pcap":
		return fmt.Errorf("capture: unknown format %q (pcapng or pcap)", *format)
	}
	c, err := dial()
	if err != nil {
		return err
	}
	out := stdout
	if *file != "-" {
		f, err := os.OpenFile(*file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			c.Close()
			return err
		}
		defer f.Close()
		out = f
	}
	// Interrupted: close the connection, so the stream ends and the file
	// is flushed below.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	stop := make(chan struct{})
	defer close(stop)
	interrupted := false
	go func() {
		select {
		case <-sig:
			interrupted = true
			c.Close()
		case <-stop:
		}
	}()
	var ng *pcap.NgWriter
	var classic *pcap.Writer
	var rec []byte
	hdr := make([]byte, enc.HeaderLen)
	sum, err := c.Capture(admin.Request{Iface: iface, Count: *count, Snaplen: *snap},
		func(admin.CaptureSummary) error {
			if *format == "pcap" {
				classic = pcap.NewWriter(out, pcap.LinkTypeEnc)
			} else {
				ng = pcap.NewNgWriter(out, pcap.LinkTypeEnc, iface)
			}
			return nil
		},
		func(p *enc.Packet) error {
			p.Header(hdr)
			if ng != nil {
				dir := pcap.DirInbound
				if p.Dir == enc.DirOut {
					dir = pcap.DirOutbound
				}
				return ng.WritePacket(p.Time, dir, hdr, p.Data, enc.HeaderLen+p.OrigLen)
			}
			rec = append(append(rec[:0], hdr...), p.Data...)
			return classic.WritePacket(p.Time, rec)
		})
	var ferr error
	switch {
	case ng != nil:
		ferr = ng.Flush()
	case classic != nil:
		ferr = classic.Flush()
	}
	if err != nil && !interrupted {
		return fmt.Errorf("capture: %w", err)
	}
	if ferr != nil {
		return fmt.Errorf("capture: writing %s: %w", *file, ferr)
	}
	fmt.Fprintf(stderr, "%d packets captured\n%d packets dropped by the capture rings\n", sum.Packets, sum.Dropped)
	return nil
}
