package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fastipsec/fastipsec/ctrl/admin"
)

// runSysctl reads or sets knobs with sysctl(8)'s conventions: NAME reads,
// NAME=VALUE sets (with or without -w), -a lists, -n prints values only.
func runSysctl(dial func() (*admin.Client, error), args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sysctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("a", false, "list every knob")
	write := fs.Bool("w", false, "set knobs (NAME=VALUE)")
	bare := fs.Bool("n", false, "print values only")
	doc := fs.Bool("d", false, "print descriptions instead of values")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var names []string
	var set [][2]string
	for _, a := range fs.Args() {
		if n, v, ok := strings.Cut(a, "="); ok {
			if n == "" {
				return fmt.Errorf("sysctl: %q: missing name", a)
			}
			set = append(set, [2]string{n, v})
		} else {
			if *write {
				return fmt.Errorf("sysctl: %q: -w needs NAME=VALUE", a)
			}
			names = append(names, a)
		}
	}
	switch {
	case *all && len(fs.Args()) > 0:
		return errors.New("sysctl: -a takes no names")
	case !*all && len(names)+len(set) == 0:
		return errors.New("sysctl: name required (or -a)")
	case len(names) > 0 && len(set) > 0:
		return errors.New("sysctl: read or set, not both at once")
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	req := admin.Request{Op: admin.OpSysctlGet, Names: names}
	if *all {
		req = admin.Request{Op: admin.OpSysctlList}
	} else if len(set) > 0 {
		req = admin.Request{Op: admin.OpSysctlSet, Set: set}
	}
	r, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	for _, k := range r.Sysctl {
		switch {
		case *doc:
			fmt.Fprintf(stdout, "%s: %s\n", k.Name, k.Doc)
		case k.Old != nil && *bare:
			fmt.Fprintf(stdout, "%d\n", k.Value)
		case k.Old != nil:
			fmt.Fprintf(stdout, "%s: %d -> %d\n", k.Name, *k.Old, k.Value)
		case *bare:
			fmt.Fprintf(stdout, "%d\n", k.Value)
		default:
			fmt.Fprintf(stdout, "%s: %d\n", k.Name, k.Value)
		}
	}
	return nil
}
