package main

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/config"
	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/keyserver"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
)

// startPFKey opens the PF_KEY socket (config pfkey:) with its semantics
// over mgr's databases; stop closes it and removes the socket file.
func startPFKey(cfg *config.Config, mgr *ctrl.Manager, log *zap.Logger) (stop func(), err error) {
	ks, err := keyserver.New(mgr, cfg.PFKey.Dialect, log.Named("pfkey"))
	if err != nil {
		return nil, err
	}
	sc := keysock.Config{Path: cfg.PFKey.Socket, Mode: cfg.PFKey.Mode}
	for _, u := range cfg.PFKey.AllowUIDs {
		sc.AllowUIDs = append(sc.AllowUIDs, uint32(u))
	}
	for _, g := range cfg.PFKey.AllowGIDs {
		sc.AllowGIDs = append(sc.AllowGIDs, uint32(g))
	}
	srv, err := keysock.Listen(sc, ks, log.Named("pfkey"))
	if err != nil {
		return nil, fmt.Errorf("%s: pfkey.socket: %w", cfg.File, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(); err != nil {
			log.Error("pfkey server stopped", zap.Error(err))
		}
	}()
	log.Info("PF_KEY socket", zap.String("path", srv.Path()), zap.String("mode", sc.Mode.String()),
		zap.String("dialect", cfg.PFKey.Dialect))
	return func() {
		srv.Close()
		<-done
	}, nil
}
