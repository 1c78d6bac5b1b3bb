package tap

import "github.com/fastipsec/fastipsec/dataplane/engine"

// The port satisfies the engine's interface without importing it.
var _ engine.Port = (*Port)(nil)
