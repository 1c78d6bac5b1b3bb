package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/fastipsec/fastipsec/ctrl/admin"
)

// runStats prints the daemon's counters.
func runStats(dial func() (*admin.Client, error), args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("j", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Do(admin.Request{Op: admin.OpStats})
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	st := r.Stats
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	t := st.Total
	fmt.Fprintf(stdout, "packets: %d received, %d sent, %d forwarded, %d local, %d generated\n",
		t.RxPackets, t.TxPackets, t.Forwarded, t.Local, t.Generated)
	w := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "core\trx\ttx\tforwarded\tdrops")
	for i, c := range st.Cores {
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\n", i, c.RxPackets, c.TxPackets, c.Forwarded, c.TotalDrops())
	}
	w.Flush()
	if len(t.Drops) > 0 {
		fmt.Fprintln(stdout, "drops:")
		names := make([]string, 0, len(t.Drops))
		for n := range t.Drops {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "\t%d %s\n", t.Drops[n], n)
		}
	}
	w = tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "port\trx\ttx\trx-nobuf\trx-errors\ttx-full\ttx-errors")
	for _, p := range st.Ports {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", p.Name, p.RxPackets, p.TxPackets, p.RxNoBuf, p.RxErrors, p.TxFull, p.TxErrors)
	}
	w.Flush()
	e := st.ESP
	fmt.Fprintln(stdout, "esp:")
	for _, kv := range []struct {
		v    uint64
		what string
	}{
		{e.Input, "packets in"}, {e.Output, "packets out"}, {e.Ibytes, "bytes in"}, {e.Obytes, "bytes out"},
		{e.Tunnel, "tunnel-mode packets"}, {e.Notdb, "no SA for the SPI"}, {e.Badauth, "authentication failures"},
		{e.Replay, "replays"}, {e.Badenc, "bad padding or trailer"}, {e.Badilen, "bad length"},
		{e.Hdrops, "too short"}, {e.Invalid, "SA dead"}, {e.Noxform, "ESP disabled"}, {e.Wrap, "sequence wraps"},
		{e.Toobig, "too big for the path"}, {e.Pdrops, "dropped by policy"}, {e.Nopf, "no policy"}, {e.Crypto, "crypto errors"},
	} {
		if kv.v != 0 || kv.what == "packets in" || kv.what == "packets out" {
			fmt.Fprintf(stdout, "\t%d %s\n", kv.v, kv.what)
		}
	}
	return nil
}
