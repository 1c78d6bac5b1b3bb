package keyserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
	"github.com/fastipsec/fastipsec/ipsec/sad"
	"github.com/fastipsec/fastipsec/ipsec/spd"
)

// Server is the PF_KEY semantics over a Manager's databases; it is the
// keysock.Handler of the PF_KEY socket.
type Server struct {
	m       *ctrl.Manager
	log     *zap.Logger
	dialect pfkey.Dialect // fixed dialect; 0: detect per client
	now     func() time.Time

	mu      sync.RWMutex
	clients map[*keysock.Conn]*client
}

// client is one connection's PF_KEY state. Its own goroutine writes it;
// broadcasters on other goroutines read the atomics.
type client struct {
	c          *keysock.Conn
	dialect    atomic.Uint32 // pfkey.Dialect
	sure       bool          // dialect detected (own goroutine only)
	registered atomic.Uint32 // bit per SA type (REGISTER)
	promisc    atomic.Bool   // X_PROMISC
	arena      pfkey.Arena   // decodes ADDs (own goroutine only)
	adds       []addItem     // addBatch's scratch (own goroutine only)
}

func (cl *client) d() pfkey.Dialect { return pfkey.Dialect(cl.dialect.Load()) }

// New returns a server over m's databases. dialect is "auto" (detected per
// client from the first message with a sockaddr; Linux until then),
// "freebsd" or "linux". It registers for the Manager's expiries,
// ACQUIREs and policy expiries.
func New(m *ctrl.Manager, dialect string, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{m: m, log: log, now: time.Now, clients: make(map[*keysock.Conn]*client)}
	switch dialect {
	case "", "auto":
	case "freebsd":
		s.dialect = pfkey.FreeBSD
	case "linux":
		s.dialect = pfkey.Linux
	default:
		return nil, fmt.Errorf("keyserver: unknown dialect %q (want auto, freebsd or linux)", dialect)
	}
	m.OnExpire(s.expire)
	m.OnAcquire(s.acquire)
	m.OnPolicyExpire(s.spdExpire)
	return s, nil
}

// Opened registers a new client.
func (s *Server) Opened(c *keysock.Conn) {
	cl := &client{c: c, sure: s.dialect != 0}
	cl.dialect.Store(uint32(pfkey.DefaultDialect))
	if s.dialect != 0 {
		cl.dialect.Store(uint32(s.dialect))
	}
	s.mu.Lock()
	s.clients[c] = cl
	s.mu.Unlock()
}

// Closed forgets a client (its registrations end with it).
func (s *Server) Closed(c *keysock.Conn) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// Messages handles a client's messages in order; runs of SADB_ADD (one
// or more) are applied under one hold of the SAD's writer lock.
func (s *Server) Messages(c *keysock.Conn, msgs [][]byte) {
	s.mu.RLock()
	cl := s.clients[c]
	s.mu.RUnlock()
	if cl == nil {
		return
	}
	for i := 0; i < len(msgs); {
		j := i
		for j < len(msgs) && isAdd(msgs[j]) {
			j++
		}
		if j > i {
			s.addBatch(cl, msgs[i:j])
			i = j
			continue
		}
		s.message(cl, msgs[i])
		i++
	}
}

func isAdd(b []byte) bool { return len(b) >= pfkey.HeaderLen && pfkey.MsgType(b[1]) == pfkey.MsgAdd }

// decode detects the client's dialect if still unsure, then decodes and
// checks b. On failure it returns what of the header could be read, for
// the errno reply.
func (s *Server) decode(cl *client, b []byte) (*pfkey.Msg, pfkey.Header, error) {
	return s.decodeIn(cl, b, nil)
}

// decodeIn is decode into a (nil: the heap); the message is valid until
// a.Reset.
func (s *Server) decodeIn(cl *client, b []byte, a *pfkey.Arena) (*pfkey.Msg, pfkey.Header, error) {
	if !cl.sure {
		if d, ok := pfkey.DetectDialect(b); ok {
			cl.dialect.Store(uint32(d))
			cl.sure = true
		}
	}
	d := cl.d()
	h, err := pfkey.ParseHeader(b)
	if err != nil {
		return nil, h, err
	}
	m, err := pfkey.DecodeIn(d, b, a)
	if err == nil {
		err = pfkey.CheckRequest(d, m)
	}
	if err != nil {
		if m != nil {
			wipeKeys(m)
		}
		return nil, h, err
	}
	return m, h, nil
}

// message handles one message.
func (s *Server) message(cl *client, b []byte) {
	if s.promiscPayload(cl, b) {
		return
	}
	m, h, err := s.decode(cl, b)
	if err != nil {
		s.fail(cl, h, err)
		return
	}
	defer wipeKeys(m)
	if err := s.dispatch(cl, m); err != nil {
		s.fail(cl, m.Header, err)
	}
}

// dispatch runs the handler of m's type; an error becomes the errno reply.
func (s *Server) dispatch(cl *client, m *pfkey.Msg) error {
	switch m.Type {
	case pfkey.MsgGetSPI:
		return s.getSPI(cl, m)
	case pfkey.MsgUpdate:
		return s.update(cl, m)
	case pfkey.MsgAdd:
		return s.add(cl, m)
	case pfkey.MsgDelete:
		return s.delete(cl, m)
	case pfkey.MsgGet:
		return s.get(cl, m)
	case pfkey.MsgAcquire:
		return s.userAcquire(cl, m)
	case pfkey.MsgRegister:
		return s.register(cl, m)
	case pfkey.MsgFlush:
		return s.flush(cl, m)
	case pfkey.MsgDump:
		return s.dump(cl, m)
	case pfkey.MsgPromisc:
		return s.promisc(cl, m)
	case pfkey.MsgSPDAdd, pfkey.MsgSPDUpdate, pfkey.MsgSPDSetIdx:
		return s.spdAdd(cl, m)
	case pfkey.MsgSPDDelete:
		return s.spdDelete(cl, m)
	case pfkey.MsgSPDDelete2:
		return s.spdDelete2(cl, m)
	case pfkey.MsgSPDGet:
		return s.spdGet(cl, m)
	case pfkey.MsgSPDDump:
		return s.spdDump(cl, m)
	case pfkey.MsgSPDFlush:
		return s.spdFlush(cl, m)
	}
	// EXPIRE, SPDEXPIRE, SPDACQUIRE, PCHANGE come from the kernel only;
	// MIGRATE and NAT_T_NEW_MAPPING are not supported.
	return pfkey.Errorf(syscall.EOPNOTSUPP, "%d is not a request this server takes", m.Type)
}

// fail answers the requester with errno and the request's header.
func (s *Server) fail(cl *client, h pfkey.Header, err error) {
	errno := errnoOf(err)
	s.log.Debug("pfkey request failed", zap.Uint64("conn", cl.c.ID()), zap.Uint8("type", uint8(h.Type)),
		zap.Uint8("satype", uint8(h.SAType)), zap.Uint32("seq", h.Seq), zap.Error(err))
	b, eerr := pfkey.Encode(cl.d(), pfkey.ErrorReply(h, errno))
	if eerr != nil {
		b = errorBytes(h, errno)
	}
	cl.c.Send(b)
}

// errorBytes lays out an error reply by hand, for when Encode refuses the
// header (a garbled request).
func errorBytes(h pfkey.Header, errno syscall.Errno) []byte {
	b := make([]byte, pfkey.HeaderLen)
	b[0], b[1], b[2], b[3] = pfkey.Version, byte(h.Type), byte(errno), byte(h.SAType)
	binary.NativeEndian.PutUint16(b[4:], pfkey.HeaderLen/8)
	binary.NativeEndian.PutUint32(b[8:], h.Seq)
	binary.NativeEndian.PutUint32(b[12:], h.PID)
	return b
}

// errnoOf maps the databases' errors to key.c's errnos.
func errnoOf(err error) syscall.Errno {
	switch {
	case errors.Is(err, sad.ErrExists), errors.Is(err, spd.ErrExists):
		return syscall.EEXIST
	case errors.Is(err, sad.ErrNotFound), errors.Is(err, spd.ErrNotFound):
		return syscall.ESRCH
	case errors.Is(err, sad.ErrNoSPI):
		return syscall.EAGAIN
	}
	return pfkey.ErrnoOf(err)
}

// target says who receives a message besides promiscuous clients
// (RFC 2367 §3.1; keysock.c's KEY_SENDUP_*).
type target uint8

const (
	toOne        target = iota // the requester only
	toAll                      // every client
	toRegistered               // clients registered for the SA type
)

// send delivers m: to the requester (from, may be nil) with flow control,
// to the other targets and promiscuous clients without waiting (a full
// queue drops), each in its own dialect. keyed marks a message carrying
// key material (its buffers are wiped after writing).
func (s *Server) send(from *client, t target, satype pfkey.SAType, m *pfkey.Msg, keyed bool) {
	var enc [3][]byte
	encode := func(d pfkey.Dialect) []byte {
		if keyed || enc[d] == nil {
			b, err := encode(d, m)
			if err != nil {
				s.log.Warn("pfkey encode", zap.Uint8("type", uint8(m.Type)), zap.Error(err))
				return nil
			}
			if keyed {
				return b
			}
			enc[d] = b
		}
		return enc[d]
	}
	s.mu.RLock()
	for _, cl := range s.clients {
		if cl.promisc.Load() {
			if b := encode(cl.d()); b != nil {
				w := promiscWrap(b)
				if keyed {
					clear(b)
					cl.c.TrySendKeyed(w)
				} else {
					cl.c.TrySend(w)
				}
			}
		}
		if cl == from {
			continue
		}
		switch t {
		case toOne:
			continue
		case toRegistered:
			if !cl.isRegistered(satype) {
				continue
			}
		}
		if b := encode(cl.d()); b != nil {
			if keyed {
				cl.c.TrySendKeyed(b)
			} else {
				cl.c.TrySend(b)
			}
		}
	}
	s.mu.RUnlock()
	if from == nil {
		return
	}
	// The requester gets its copy whatever the target (key_sendup_mbuf).
	if b := encode(from.d()); b != nil {
		if keyed {
			from.c.SendKeyed(b)
		} else {
			from.c.Send(b)
		}
	}
}

// isRegistered: registered for satype, or for anything when satype is
// unspecified (SPDEXPIRE).
func (cl *client) isRegistered(t pfkey.SAType) bool {
	r := cl.registered.Load()
	if t == pfkey.SATypeUnspec {
		return r != 0
	}
	return t < 32 && r&(1<<t) != 0
}

// promiscWrap prefixes b with the SADB_X_PROMISC header key_sendup0 adds
// for promiscuous sockets.
func promiscWrap(b []byte) []byte {
	w := make([]byte, pfkey.HeaderLen+len(b))
	w[0], w[1] = pfkey.Version, byte(pfkey.MsgPromisc)
	binary.NativeEndian.PutUint16(w[4:], uint16(len(w)/8))
	copy(w[pfkey.HeaderLen:], b)
	return w
}

// reply is the reply header to a request: its type, satype, seq and pid.
func reply(req *pfkey.Msg) pfkey.Header {
	return pfkey.Header{Version: pfkey.Version, Type: req.Type, SAType: req.SAType, Seq: req.Seq, PID: req.PID}
}

// promisc is SADB_X_PROMISC: with no extensions, satype 1 turns
// promiscuous mode on and 0 off, and the message goes back to everyone;
// with a payload, the payload is sent to everyone (key_promisc).
func (s *Server) promisc(cl *client, m *pfkey.Msg) error {
	if len(m.Order) == 0 && len(m.Unknown) == 0 {
		switch m.SAType {
		case 0, 1:
			cl.promisc.Store(m.SAType == 1)
		default:
			return pfkey.Errorf(syscall.EINVAL, "X_PROMISC satype %d", m.SAType)
		}
		s.send(cl, toAll, 0, &pfkey.Msg{Header: reply(m)}, false)
		return nil
	}
	return pfkey.Errorf(syscall.EINVAL, "X_PROMISC with extensions")
}

// promiscPayload is SADB_X_PROMISC carrying a message after its header:
// the payload goes to everyone as it is (key_promisc). ok is false when b
// is not such a message.
func (s *Server) promiscPayload(cl *client, b []byte) bool {
	h, err := pfkey.ParseHeader(b)
	if err != nil || h.Type != pfkey.MsgPromisc || len(b) <= pfkey.HeaderLen || int(h.Len)*8 != len(b) {
		return false
	}
	p := append([]byte(nil), b[pfkey.HeaderLen:]...)
	s.mu.RLock()
	for _, o := range s.clients {
		if o.promisc.Load() {
			o.c.TrySend(promiscWrap(p))
		}
		if o != cl {
			o.c.TrySend(p)
		}
	}
	s.mu.RUnlock()
	cl.c.Send(p)
	return true
}

func wipeKeys(m *pfkey.Msg) { m.WipeKeys() }

// encodeSize is room for a typical message (an SA with keys and
// lifetimes), so encoding into a scratch buffer seldom grows it.
const encodeSize = 512

// scratch holds encoding buffers: a message is encoded into one, then
// copied out at its exact size, so a reply of a hundred bytes (an ADD's,
// an SPDADD's, sent at tens of thousands a second) does not carry a
// buffer sized for the largest message to the socket and the collector.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, encodeSize); return &b }}

// encode is pfkey.Append into a buffer of exactly the message's size.
// The scratch buffer is wiped after use, as it may have held keys.
func encode(d pfkey.Dialect, m *pfkey.Msg) ([]byte, error) {
	sp := scratch.Get().(*[]byte)
	b, err := pfkey.Append(d, (*sp)[:0], m)
	var out []byte
	if err == nil {
		out = append(make([]byte, 0, len(b)), b...)
	}
	clear(b)
	if cap(b) <= 8*encodeSize { // keep giant dumps' buffers out of the pool
		*sp = b[:0]
		scratch.Put(sp)
	}
	return out, err
}
