//go:build !linux

package keysock

import (
	"errors"
	"net"
)

// peerCred is unsupported here, so every peer is refused (secure default).
func peerCred(*net.UnixConn) (Cred, error) {
	return Cred{}, errors.New("keysock: peer credentials are supported on Linux only")
}
