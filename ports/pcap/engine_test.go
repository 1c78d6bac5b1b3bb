package pcap_test

import (
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/ports/pcap"
)

// The driver satisfies the engine's interfaces without importing it.
var (
	_ engine.Port    = (*pcap.Port)(nil)
	_ engine.Finite  = (*pcap.Port)(nil)
	_ engine.Flusher = (*pcap.Port)(nil)
)
