package keysock

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred reads SO_PEERCRED: the peer's pid, uid and gid at connect.
func peerCred(nc *net.UnixConn) (Cred, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var uc *unix.Ucred
	var serr error
	if err := rc.Control(func(fd uintptr) {
		uc, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Cred{}, err
	}
	if serr != nil {
		return Cred{}, serr
	}
	return Cred{PID: uc.Pid, UID: uc.Uid, GID: uc.Gid}, nil
}
