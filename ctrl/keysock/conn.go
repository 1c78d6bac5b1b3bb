package keysock

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// outMsg is one queued message; wipe clears it once written.
type outMsg struct {
	b    []byte
	wipe bool
}

// Conn is one connected client.
type Conn struct {
	s    *Server
	nc   *net.UnixConn
	id   uint64
	cred Cred

	q    chan outMsg
	done chan struct{}
	once sync.Once

	sent, dropped atomic.Uint64
}

func newConn(s *Server, nc *net.UnixConn, cred Cred) *Conn {
	return &Conn{s: s, nc: nc, id: s.nextID.Add(1), cred: cred,
		q: make(chan outMsg, s.cfg.QueueLen), done: make(chan struct{})}
}

// ID is unique per connection within the Server.
func (c *Conn) ID() uint64 { return c.id }

// Cred is the peer's identity.
func (c *Conn) Cred() Cred { return c.cred }

// Sent counts messages written to the client.
func (c *Conn) Sent() uint64 { return c.sent.Load() }

// Dropped counts messages TrySend could not queue.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// Send queues msg, waiting while the queue is full (flow control); the
// caller must not change msg afterwards. ErrClosed once the connection is
// closed.
func (c *Conn) Send(msg []byte) error { return c.send(outMsg{b: msg}) }

// SendKeyed is Send for a message carrying key material: the buffer is
// wiped once written (or dropped), so msg must not be shared.
func (c *Conn) SendKeyed(msg []byte) error { return c.send(outMsg{b: msg, wipe: true}) }

func (c *Conn) send(m outMsg) error {
	select {
	case <-c.done:
		if m.wipe {
			clear(m.b)
		}
		return ErrClosed
	default:
	}
	select {
	case c.q <- m:
		return nil
	case <-c.done:
		if m.wipe {
			clear(m.b)
		}
		return ErrClosed
	}
}

// TrySend queues msg if there is room and reports whether it did; a
// message that finds the queue full is dropped and counted (broadcasts).
// msg may be shared between connections and must not change afterwards.
func (c *Conn) TrySend(msg []byte) bool { return c.trySend(outMsg{b: msg}) }

// TrySendKeyed is TrySend for a message carrying key material, not shared:
// it is wiped once written or dropped.
func (c *Conn) TrySendKeyed(msg []byte) bool { return c.trySend(outMsg{b: msg, wipe: true}) }

func (c *Conn) trySend(m outMsg) bool {
	select {
	case <-c.done:
	default:
		select {
		case c.q <- m:
			return true
		default:
			c.dropped.Add(1)
		}
	}
	if m.wipe {
		clear(m.b)
	}
	return false
}

// Closed reports whether the connection is closed (a long dump stops).
func (c *Conn) Closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close disconnects the client; queued messages are discarded.
func (c *Conn) Close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// readLoop hands the datagrams to the handler, as many at a time as the
// client has already sent (up to maxBatch), until the peer leaves.
func (c *Conn) readLoop() {
	defer c.s.wg.Done()
	defer func() {
		c.Close()
		c.s.drop(c)
		c.s.h.Closed(c)
	}()
	r, err := newReader(c.nc)
	if err != nil {
		c.s.log.Warn("pfkey reader", zap.Uint64("conn", c.id), zap.Error(err))
		return
	}
	defer r.close()
	for {
		msgs, err := r.next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.s.log.Debug("pfkey read", zap.Uint64("conn", c.id), zap.Error(err))
			}
			return
		}
		c.s.h.Messages(c, msgs)
		r.wipe()
	}
}

// writeLoop writes queued messages, as many per system call as are
// queued (up to maxBatch), until the connection closes.
func (c *Conn) writeLoop() {
	defer c.s.wg.Done()
	w, err := newWriter(c.nc)
	if err != nil {
		c.s.log.Warn("pfkey writer", zap.Uint64("conn", c.id), zap.Error(err))
		c.Close()
		c.drain()
		return
	}
	batch := make([]outMsg, 0, maxBatch)
	for {
		select {
		case <-c.done:
			c.drain()
			return
		case m := <-c.q:
			batch = append(batch[:0], m)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case m := <-c.q:
				batch = append(batch, m)
			default:
				break more
			}
		}
		err := w.write(batch)
		for i := range batch {
			if batch[i].wipe {
				clear(batch[i].b)
			}
			batch[i] = outMsg{}
		}
		if err != nil {
			c.Close()
			c.drain()
			return
		}
		c.sent.Add(uint64(len(batch)))
	}
}

// drain wipes whatever keyed messages are still queued.
func (c *Conn) drain() {
	for {
		select {
		case m := <-c.q:
			if m.wipe {
				clear(m.b)
			}
		default:
			return
		}
	}
}
