package ring_test

import (
	"github.com/fastipsec/fastipsec/dataplane/engine"
	"github.com/fastipsec/fastipsec/ports/ring"
)

// The driver satisfies the engine's interface without importing it.
var _ engine.Port = (*ring.Port)(nil)
