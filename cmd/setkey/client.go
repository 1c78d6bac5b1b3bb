package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ctrl/pfkeyfmt"
)

// client is one PF_KEY conversation over ipsecd's SOCK_SEQPACKET socket.
type client struct {
	conn    *net.UnixConn
	dialect pfkey.Dialect // what requests are encoded in
	pid     uint32        // sadb_msg_pid of every request
	timeout time.Duration // per reply, as setkey's SO_RCVTIMEO of 1 s
	verbose io.Writer     // -v: headers of messages sent and received; nil = quiet
	hexdump bool          // -h: bytes of messages sent and received
	out     io.Writer
	buf     []byte
}

func dial(path string, out io.Writer) (*client, error) {
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, dialect: pfkey.FreeBSD, pid: pid(), timeout: replyTimeout,
		out: out, buf: make([]byte, pfkey.MaxMsgLen)}, nil
}

func (c *client) Close() error { return c.conn.Close() }

// send encodes m with the client's pid and writes it as one datagram; the
// encoded copy of any key is wiped afterwards.
func (c *client) send(m *pfkey.Msg) error {
	m.PID = c.pid
	b, err := pfkey.Encode(c.dialect, m)
	if err != nil {
		return err
	}
	defer clear(b)
	c.trace(b)
	_, err = c.conn.Write(b)
	return err
}

// errTimeout is a reply that did not come within the timeout.
var errTimeout = errors.New("no reply from the PF_KEY server (timed out)")

// readRaw reads one datagram, waiting at most the timeout (0: forever).
// The bytes are the client's buffer, valid until the next read.
func (c *client) readRaw() ([]byte, error) {
	var deadline time.Time
	if c.timeout > 0 {
		deadline = time.Now().Add(c.timeout)
	}
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	n, err := c.conn.Read(c.buf)
	switch {
	case err == nil && n < pfkey.HeaderLen:
		return nil, fmt.Errorf("short message (%d bytes) from the PF_KEY server", n)
	case err == nil:
		return c.buf[:n], nil
	case errors.Is(err, io.EOF):
		return nil, errors.New("the PF_KEY server closed the connection")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, errTimeout
	}
	return nil, err
}

// recv reads and decodes one message in the dialect its addresses show
// (replies without addresses in the client's own). The message may hold
// keys: callers wipe them with WipeKeys.
func (c *client) recv() (*pfkey.Msg, pfkey.Dialect, error) {
	b, err := c.readRaw()
	if err != nil {
		return nil, 0, err
	}
	defer clear(b)
	d, ok := pfkey.DetectDialect(b)
	if !ok {
		d = c.dialect
	}
	m, err := pfkey.Decode(d, b)
	if err != nil {
		return nil, 0, fmt.Errorf("invalid message from the PF_KEY server: %w", err)
	}
	c.trace(b)
	return m, d, nil
}

// trace prints a message for -v and -h.
func (c *client) trace(b []byte) {
	if h, err := pfkey.ParseHeader(b); err == nil && c.verbose != nil {
		pfkeyfmt.Header(c.verbose, h)
		fmt.Fprintln(c.verbose)
	}
	if c.hexdump {
		hexLines(c.out, b)
	}
}

// hexLines is setkey -h: 16 bytes a line after the offset.
func hexLines(w io.Writer, b []byte) {
	for i, x := range b {
		if i%16 == 0 {
			fmt.Fprintf(w, "%08x: ", i)
		}
		fmt.Fprintf(w, "%02x ", x)
		if i%16 == 15 {
			fmt.Fprintln(w)
		}
	}
	if len(b)%16 != 0 {
		fmt.Fprintln(w)
	}
}

// replyError is a reply with sadb_msg_errno set.
type replyError struct {
	Type  pfkey.MsgType
	Errno syscall.Errno
}

// Error is setkey's text for the errno: "No entry" for a missing SA or
// policy, "No SAD entries" / "No SPD entries" for an empty dump, otherwise
// strerror.
func (e *replyError) Error() string {
	if e.Errno == syscall.ENOENT {
		switch e.Type {
		case pfkey.MsgDelete, pfkey.MsgGet, pfkey.MsgSPDDelete:
			return "No entry"
		case pfkey.MsgDump:
			return "No SAD entries"
		case pfkey.MsgSPDDump:
			return "No SPD entries"
		}
	}
	return capitalize(e.Errno.Error())
}

// capitalize makes Go's lower-case errno text read like strerror(3).
func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// exchange sends m and hands each reply to it (the requester's pid and
// type: broadcasts of other clients' changes are skipped) until one with
// seq 0; a reply carrying an errno ends the exchange with a *replyError.
func (c *client) exchange(m *pfkey.Msg, each func(*pfkey.Msg, pfkey.Dialect)) error {
	if err := c.send(m); err != nil {
		return err
	}
	for {
		r, d, err := c.recv()
		if err != nil {
			return err
		}
		if r.PID != c.pid || r.Type != m.Type {
			r.WipeKeys()
			continue
		}
		if r.Errno != 0 {
			return &replyError{Type: r.Type, Errno: r.Errno}
		}
		if each != nil {
			each(r, d)
		}
		r.WipeKeys()
		if r.Seq == 0 {
			return nil
		}
	}
}
