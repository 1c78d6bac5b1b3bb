package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config"
	"github.com/fastipsec/fastipsec/config/setkey"
	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/stage"
)

// serve opens the ports, builds the engine and runs it until ctx ends
// (or, offline, until the input is processed).
func serve(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	pool := pkt.NewPool("main", cfg.Engine.PoolSize+len(cfg.Cores)*4*cfg.Engine.Burst, 0)
	ports, err := openPorts(cfg, pool)
	if err != nil {
		return err
	}
	defer func() {
		if err := closePorts(ports); err != nil {
			log.Warn("closing ports", zap.Error(err))
		}
	}()
	ecfg, err := engineConfig(cfg, ports, pool)
	if err != nil {
		return err
	}
	mgr := ctrl.NewManager(log)
	if err := applyControl(cfg, mgr); err != nil {
		return err
	}
	ipsecStats := stage.NewStats()
	deps := stage.Deps{SAD: mgr.SAD, SPD: mgr.SPD, Knobs: mgr.Knobs, Stats: ipsecStats, Acquire: mgr.Acquire}
	encIf := enc.New("enc0")
	if err := encIf.SetRules(cfg.Enc.Rules); err != nil {
		return fmt.Errorf("%s:%d: enc: %w", cfg.File, cfg.Enc.Line, err)
	}
	deps.Enc = encIf
	ecfg.Inbound = []engine.StageFactory{stage.Inbound(deps)}
	ecfg.Outbound = []engine.StageFactory{stage.Outbound(deps)}
	e, err := engine.New(ecfg)
	if err != nil {
		return err
	}
	ctlCtx, stopCtl := context.WithCancel(context.Background())
	defer stopCtl()
	go mgr.Run(ctlCtx)
	log.Info("IPsec databases loaded", zap.Int("sas", mgr.SAD.Len()), zap.Int("policies", mgr.SPD.Len()))
	defer func() {
		log.Info("ESP totals", zap.Any("espstat", ipsecStats.ESP()))
		log.Info("AH totals", zap.Any("ahstat", ipsecStats.AH()))
		log.Info("IPComp totals", zap.Any("ipcompstat", ipsecStats.IPComp()))
	}()
	for _, p := range ports {
		log.Info("port", zap.String("name", p.Name()), zap.String("link", p.LinkType().String()),
			zap.Int("mtu", p.MTU()), zap.String("mac", macString(p.MAC())))
	}
	if e.Offline() {
		log.Info("offline mode: every port is a capture file")
		start := time.Now()
		if err := e.RunOffline(ctx); err != nil {
			return err
		}
		logStats(log, e, time.Since(start))
		return nil
	}
	// The admin API serves running daemons (offline runs end by themselves).
	adm, err := startAdmin(admin.Config{Socket: cfg.Admin.Socket, Mode: cfg.Admin.Mode, AllowUIDs: cfg.Admin.AllowUIDs,
		AllowGIDs: cfg.Admin.AllowGIDs, Manager: mgr, Enc: encIf}, e, ipsecStats, log)
	if err != nil {
		return err
	}
	defer adm.Close()
	stopPFKey, err := startPFKey(cfg, mgr, log)
	if err != nil {
		return err
	}
	defer stopPFKey()
	if err := e.Start(); err != nil {
		return err
	}
	log.Info("running", zap.Ints("cores", cfg.Cores), zap.Int("ports", len(ports)))
	start := time.Now()
	<-ctx.Done()
	log.Info("stopping")
	e.Stop()
	logStats(log, e, time.Since(start))
	return e.Err()
}

// applyControl sets the config's knobs and loads its setkey file; errors
// name the file and line.
func applyControl(cfg *config.Config, mgr *ctrl.Manager) error {
	for _, s := range cfg.Sysctl {
		if err := mgr.Sysctl([][2]string{{s.Name, s.Value}}); err != nil {
			return fmt.Errorf("%s:%d: sysctl: %w", cfg.File, s.Line, err)
		}
	}
	if cfg.SetKey == "" {
		return nil
	}
	cmds, err := setkey.ParseFile(cfg.SetKey)
	if err != nil {
		return err
	}
	return mgr.ApplySetkey(cfg.SetKey, cmds)
}

// engineConfig maps the config's names to the engine's port indexes.
func engineConfig(cfg *config.Config, ports []engine.Port, pool *pkt.Pool) (engine.Config, error) {
	index := make(map[string]int, len(cfg.Ports))
	for i, p := range cfg.Ports {
		index[p.Name] = i
	}
	ec := engine.Config{
		Ports:    ports,
		HostPort: -1,
		Cores:    cfg.Cores,
		Pin:      true,
		Burst:    cfg.Engine.Burst,
		Pool:     pool,
	}
	if cfg.Engine.Idle == "poll" {
		ec.Idle = engine.IdlePoll
	}
	for _, p := range cfg.Ports {
		ec.Addresses = append(ec.Addresses, p.Addresses)
	}
	for _, r := range cfg.Routes {
		ec.Routes = append(ec.Routes, engine.Route{Dst: r.Dst, Via: r.Via, Port: index[r.Port]})
	}
	for _, n := range cfg.Neighbors {
		ec.Neighbors = append(ec.Neighbors, engine.Neighbor{IP: n.IP, MAC: n.MAC, Port: index[n.Port]})
	}
	if cfg.HostPath.Port != "" {
		i, ok := index[cfg.HostPath.Port]
		if !ok {
			return ec, fmt.Errorf("%s:%d: hostpath.port: no port %q", cfg.File, cfg.HostPath.Line, cfg.HostPath.Port)
		}
		ec.HostPort = i
	}
	return ec, nil
}

func logStats(log *zap.Logger, e *engine.Engine, d time.Duration) {
	t := e.Total()
	log.Info("totals", zap.Duration("elapsed", d), zap.Uint64("rx", t.RxPackets), zap.Uint64("tx", t.TxPackets),
		zap.Uint64("forwarded", t.Forwarded), zap.Uint64("local", t.Local), zap.Uint64("generated", t.Generated),
		zap.Any("drops", t.Drops))
	for _, p := range e.Ports() {
		s := p.Stats()
		log.Info("port totals", zap.String("port", p.Name()), zap.Uint64("rx", s.RxPackets), zap.Uint64("tx", s.TxPackets),
			zap.Uint64("rx_nobuf", s.RxNoBuf), zap.Uint64("tx_full", s.TxFull))
	}
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
