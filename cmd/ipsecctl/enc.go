package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/ipsec/enc"
)

// runEnc lists or replaces the enc0 rules.
func runEnc(dial func() (*admin.Client, error), args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("enc: want rules or set FILE")
	}
	var req admin.Request
	switch {
	case args[0] == "rules" && len(args) == 1:
		req.Op = admin.OpEncRules
	case args[0] == "set" && len(args) == 2:
		name := args[1]
		var text []byte
		var err error
		if name == "-" {
			name = "stdin"
			text, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
		} else {
			text, err = os.ReadFile(name)
		}
		if err != nil {
			return fmt.Errorf("enc set: %w", err)
		}
		// Check here first: errors come back even with no daemon.
		if _, err := enc.ParseRules(name, string(text)); err != nil {
			return err
		}
		req = admin.Request{Op: admin.OpEncSet, Rules: string(text), RulesName: name}
	default:
		return errors.New("enc: want rules or set FILE")
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("enc: %w", err)
	}
	if req.Op == admin.OpEncSet {
		fmt.Fprintf(stderr, "enc0: %d rules\n", len(r.Rules))
		return nil
	}
	for _, rh := range r.Rules {
		fmt.Fprintf(stdout, "%s # %d matches\n", rh.Rule, rh.Hits)
	}
	return nil
}
