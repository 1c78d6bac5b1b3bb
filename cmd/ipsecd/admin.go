package main

import (
	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/stage"
)

// startAdmin opens the admin socket for a running engine and serves it
// in the background; Close the server to stop.
func startAdmin(cfg admin.Config, e *engine.Engine, esp *stage.Stats, log *zap.Logger) (*admin.Server, error) {
	cfg.Stats = func() admin.Stats {
		st := admin.Stats{Cores: e.Stats(), Total: e.Total(), ESP: esp.ESP()}
		for _, p := range e.Ports() {
			st.Ports = append(st.Ports, admin.PortStats{Name: p.Name(), PortSnapshot: p.Stats()})
		}
		if st.Cores == nil {
			st.Cores = []stats.CoreSnapshot{}
		}
		return st
	}
	cfg.Log = log
	srv, err := admin.Listen(cfg)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := srv.Serve(); err != nil {
			log.Error("admin socket", zap.Error(err))
		}
	}()
	log.Info("admin API", zap.String("socket", srv.Path()))
	return srv, nil
}
