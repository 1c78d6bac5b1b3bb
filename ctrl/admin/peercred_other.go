//go:build !linux

package admin

import (
	"errors"
	"net"
)

// peerCred is only implemented on Linux; elsewhere every peer is refused
// (secure by default).
func peerCred(*net.UnixConn) (uid, gid, pid int, err error) {
	return 0, 0, 0, errors.New("peer credentials are not supported on this system")
}
