package keysock

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr (recvmmsg/sendmmsg).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// reader takes the datagrams already queued in one recvmmsg(2) (up to
// maxBatch, waiting in the netpoller only when there are none). Each slot
// of its buffer holds a whole MaxMessage; the buffer is an anonymous
// mapping, so only the pages datagrams touch cost memory. MSG_TRUNC marks
// a datagram too long for any PF_KEY message: it is passed on cut to
// MaxMessage (and fails the length check).
type reader struct {
	rc   syscall.RawConn
	buf  []byte // maxBatch slots of MaxMessage
	hdrs [maxBatch]mmsghdr
	iovs [maxBatch]unix.Iovec
	lens [maxBatch]int // bytes used per slot by the last batch
	msgs [][]byte
	used int  // slots used by the last batch
	eof  bool // a zero-length datagram came: the next call ends

	recv func(fd uintptr) bool // r.recvmmsg, bound once (no closure per call)
	n    int                   // datagrams the last recvmmsg took
	rerr error                 // and its error
}

func newReader(nc *net.UnixConn) (*reader, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf, err := unix.Mmap(-1, 0, maxBatch*MaxMessage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	r := &reader{rc: rc, buf: buf, msgs: make([][]byte, 0, maxBatch)}
	r.recv = r.recvmmsg
	for i := range r.hdrs {
		r.iovs[i].Base = &buf[i*MaxMessage]
		r.iovs[i].SetLen(MaxMessage)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
	}
	return r, nil
}

// next returns the next batch; io.EOF when the peer has closed (a
// zero-length datagram reads as end of file, as Go's net has it).
func (r *reader) next() ([][]byte, error) {
	r.msgs = r.msgs[:0]
	if r.eof {
		return nil, io.EOF
	}
	err := r.rc.Read(r.recv)
	if err == nil {
		err = r.rerr
	}
	if err != nil {
		return nil, err
	}
	for i := range r.n {
		k := int(r.hdrs[i].n)
		if k == 0 {
			r.eof = true
			break
		}
		k = min(k, MaxMessage)
		r.lens[i] = k
		r.used = i + 1
		r.msgs = append(r.msgs, r.buf[i*MaxMessage:i*MaxMessage+k])
	}
	if len(r.msgs) == 0 {
		return nil, io.EOF
	}
	return r.msgs, nil
}

// recvmmsg takes what is queued, without waiting; false asks the poller
// to wait when nothing is.
func (r *reader) recvmmsg(fd uintptr) bool {
	for i := range r.hdrs {
		r.hdrs[i].n = 0
		r.hdrs[i].hdr.Flags = 0
	}
	k, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), maxBatch,
		unix.MSG_DONTWAIT, 0, 0)
	r.n, r.rerr = int(k), nil
	if e != 0 {
		r.n, r.rerr = 0, e
	}
	return r.rerr != unix.EAGAIN
}

// wipe clears the bytes the last batch used (they may carry keys).
func (r *reader) wipe() {
	for i := range r.used {
		clear(r.buf[i*MaxMessage : i*MaxMessage+r.lens[i]])
	}
	r.used = 0
}

// close releases the buffer.
func (r *reader) close() {
	if r.buf != nil {
		unix.Munmap(r.buf)
		r.buf = nil
	}
}

// writer sends queued messages with sendmmsg(2), a batch per call.
type writer struct {
	rc   syscall.RawConn
	hdrs [maxBatch]mmsghdr
	iovs [maxBatch]unix.Iovec

	send func(fd uintptr) bool // w.sendmmsg, bound once (no closure per call)
	todo int                   // messages of the pending call
	n    int                   // messages the last sendmmsg sent
	werr error                 // and its error
}

func newWriter(nc *net.UnixConn) (*writer, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := &writer{rc: rc}
	w.send = w.sendmmsg
	for i := range w.hdrs {
		w.hdrs[i].hdr.Iov = &w.iovs[i]
		w.hdrs[i].hdr.SetIovlen(1)
	}
	return w, nil
}

// write sends every message of batch (at most maxBatch), waiting for
// room in the socket as needed.
func (w *writer) write(batch []outMsg) error {
	for len(batch) > 0 {
		for i, m := range batch {
			w.iovs[i].Base = unsafe.SliceData(m.b)
			w.iovs[i].SetLen(len(m.b))
		}
		w.todo = len(batch)
		err := w.rc.Write(w.send)
		if err == nil {
			err = w.werr
		}
		clear(w.iovs[:len(batch)])
		if err != nil {
			return err
		}
		batch = batch[w.n:]
	}
	return nil
}

// sendmmsg sends the pending messages without waiting; false asks the
// poller to wait for room when the socket is full.
func (w *writer) sendmmsg(fd uintptr) bool {
	k, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[0])), uintptr(w.todo),
		unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	w.n, w.werr = int(k), nil
	if e != 0 {
		w.n, w.werr = 0, e
	}
	return w.werr != unix.EAGAIN
}
