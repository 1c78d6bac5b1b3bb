package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
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
	e, err := engine.New(ecfg)
	if err != nil {
		return err
	}
	if cfg.SetKey != "" {
		log.Warn("setkey file not applied: this build has no IPsec transforms yet", zap.String("file", cfg.SetKey))
	}
	for _, s := range cfg.Sysctl {
		log.Warn("sysctl not applied: this build has no IPsec knobs yet", zap.String("name", s.Name), zap.String("value", s.Value))
	}
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
