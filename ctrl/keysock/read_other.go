//go:build !linux

package keysock

import (
	"net"
	"syscall"
)

// reader reads one datagram per batch with the net package.
type reader struct {
	nc   *net.UnixConn
	buf  []byte
	used int
}

func newReader(nc *net.UnixConn) (*reader, error) {
	return &reader{nc: nc, buf: make([]byte, MaxMessage)}, nil
}

func (r *reader) next() ([][]byte, error) {
	n, _, flags, _, err := r.nc.ReadMsgUnix(r.buf, nil)
	if err != nil {
		return nil, err
	}
	if flags&syscall.MSG_TRUNC != 0 {
		n = len(r.buf)
	}
	r.used = n
	return [][]byte{r.buf[:n]}, nil
}
