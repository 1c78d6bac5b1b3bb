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

// wipe clears the bytes the last batch used (they may carry keys).
func (r *reader) wipe() {
	clear(r.buf[:r.used])
	r.used = 0
}

func (r *reader) close() {}

// writer writes one message per call with the net package.
type writer struct{ nc *net.UnixConn }

func newWriter(nc *net.UnixConn) (*writer, error) { return &writer{nc: nc}, nil }

func (w *writer) write(batch []outMsg) error {
	for _, m := range batch {
		if _, err := w.nc.Write(m.b); err != nil {
			return err
		}
	}
	return nil
}
