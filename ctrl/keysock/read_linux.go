package keysock

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reader reads datagrams with recv(2): the first waits (in the netpoller),
// the rest of a batch are taken only if already queued (MSG_DONTWAIT), and
// each read keeps room for a whole MaxMessage. MSG_TRUNC reports a
// datagram's real length, so one too long for any PF_KEY message is
// passed on at its full apparent size (and fails the length check).
type reader struct {
	rc   syscall.RawConn
	buf  []byte // 2 x MaxMessage; untouched pages cost no memory
	used int
	msgs [][]byte
}

func newReader(nc *net.UnixConn) (*reader, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &reader{rc: rc, buf: make([]byte, 2*MaxMessage), msgs: make([][]byte, 0, maxBatch)}, nil
}

// next returns the next batch; io.EOF when the peer has closed (a
// zero-length datagram reads as end of file, as Go's net has it).
func (r *reader) next() ([][]byte, error) {
	r.msgs = r.msgs[:0]
	for len(r.msgs) < maxBatch && len(r.buf)-r.used >= MaxMessage {
		first := len(r.msgs) == 0
		var n int
		var rerr error
		err := r.rc.Read(func(fd uintptr) bool {
			n, rerr = recv(int(fd), r.buf[r.used:r.used+MaxMessage])
			return !(first && rerr == unix.EAGAIN)
		})
		if err == nil {
			err = rerr
		}
		if err == unix.EAGAIN && !first {
			break
		}
		if err != nil {
			if len(r.msgs) > 0 {
				break // deliver what came; the error recurs on the next call
			}
			return nil, err
		}
		if n == 0 {
			if len(r.msgs) > 0 {
				break
			}
			return nil, io.EOF
		}
		n = min(n, MaxMessage) // truncated: longer than any valid message
		r.msgs = append(r.msgs, r.buf[r.used:r.used+n])
		r.used += n
	}
	return r.msgs, nil
}

func recv(fd int, b []byte) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
