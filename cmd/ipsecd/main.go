// Command ipsecd is the fastipsec router daemon.
//
//	ipsecd -c FILE [--log-json] [--log-level LEVEL]   run the router described by FILE
//	ipsecd check -c FILE                              validate FILE and exit
//	ipsecd demo [--duration 5s] [--json] ...          traffic through a router over ring ports
//
// With every port a pcap port, ipsecd runs offline: it processes every
// input frame, writes the tx files and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/fastipsec/fastipsec/config"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ipsecd:", err)
		}
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(args[1:])
		case "check":
			return runCheck(args[1:])
		}
	}
	fs := flag.NewFlagSet("ipsecd", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `file` (YAML)")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of human-readable text")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (default: the config's)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ipsecd -c FILE [--log-json] [--log-level LEVEL]\n       ipsecd check -c FILE\n       ipsecd demo [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fs.Usage()
		return errors.New("-c FILE is required")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	level := cfg.Log.Level
	if *logLevel != "" {
		level = *logLevel
	}
	log, err := newLogger(level, *logJSON || cfg.Log.JSON)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are not actionable
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
}

func runCheck(args []string) error {
	fs := flag.NewFlagSet("ipsecd check", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `file` (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := config.Load(*cfgPath); err != nil {
		return err
	}
	fmt.Println(*cfgPath + ": ok")
	return nil
}

// newLogger builds zap: human-readable on a terminal, JSON otherwise or
// when asked.
func newLogger(level string, json bool) (*zap.Logger, error) {
	lvl := zapcore.InfoLevel
	if level != "" {
		if err := lvl.Set(level); err != nil {
			return nil, fmt.Errorf("log level %q: %w", level, err)
		}
	}
	var zc zap.Config
	if json || !isTerminal(os.Stderr) {
		zc = zap.NewProductionConfig()
		zc.Sampling = nil
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	if json {
		zc.Encoding = "json"
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.OutputPaths = []string{"stderr"}
	return zc.Build()
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
