package keysock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// MaxMessage is the largest PF_KEY message: sadb_msg_len counts 64-bit
// words in 16 bits.
const MaxMessage = 8 * 0xffff

// Defaults for Config's zero fields.
const (
	DefaultMode     os.FileMode = 0o600
	DefaultQueueLen             = 512
	DefaultMaxConns             = 256
	sndBuf                      = 1 << 20
)

// Config says where to listen and whom to admit.
type Config struct {
	Path string      // socket path; its directory is created (0755) if missing
	Mode os.FileMode // socket file mode; 0 means DefaultMode
	// AllowUIDs and AllowGIDs admit peers by SO_PEERCRED uid or primary
	// gid; the server's own effective uid is always admitted.
	AllowUIDs, AllowGIDs []uint32
	QueueLen             int // messages queued per connection; 0: DefaultQueueLen
	MaxConns             int // connections at once; 0: DefaultMaxConns
}

// Cred is a connected peer's identity (SO_PEERCRED).
type Cred struct {
	PID      int32
	UID, GID uint32
}

// Handler gives the PF_KEY semantics. Opened and Closed bracket a
// connection; Messages runs on the connection's own goroutine with the
// datagrams that have arrived (one or more, in order), which are valid,
// and are wiped, only until it returns.
type Handler interface {
	Opened(c *Conn)
	Messages(c *Conn, msgs [][]byte)
	Closed(c *Conn)
}

// Errors.
var (
	ErrClosed = errors.New("keysock: connection closed")
	ErrInUse  = errors.New("keysock: socket path in use by a running server")
)

// Server accepts PF_KEY clients on a Unix SOCK_SEQPACKET socket.
type Server struct {
	cfg  Config
	h    Handler
	log  *zap.Logger
	ln   *net.UnixListener
	ino  uint64 // the socket file's inode, to remove only our own
	euid uint32

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	nextID atomic.Uint64
	wg     sync.WaitGroup

	refused atomic.Uint64
}

// Listen creates the socket at cfg.Path with cfg.Mode, replacing a stale
// socket file (one nobody accepts on); ErrInUse if a server answers there.
// The socket is bound under a temporary name, given its mode, then renamed
// into place, so it is never reachable with wider permissions.
func Listen(cfg Config, h Handler, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.Mode == 0 {
		cfg.Mode = DefaultMode
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Path == "" {
		return nil, errors.New("keysock: empty socket path")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, err
	}
	if err := removeStale(cfg.Path); err != nil {
		return nil, err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", cfg.Path, os.Getpid())
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: tmp, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Server, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Chmod(tmp, cfg.Mode); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(tmp)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, cfg.Path); err != nil {
		return fail(err)
	}
	s := &Server{cfg: cfg, h: h, log: log, ln: ln, ino: inode(fi), euid: uint32(os.Geteuid()),
		conns: make(map[*Conn]struct{})}
	return s, nil
}

// removeStale removes path if it is a socket nobody accepts on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("keysock: %s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unixpacket", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%w: %s", ErrInUse, path)
	}
	return os.Remove(path)
}

// Path is the socket path.
func (s *Server) Path() string { return s.cfg.Path }

// Refused counts peers turned away by the credential check or the
// connection limit.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// Serve accepts clients until Close; it returns nil after Close.
func (s *Server) Serve() error {
	for {
		nc, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				s.log.Warn("pfkey accept", zap.Error(err))
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return err
		}
		s.admit(nc)
	}
}

// admit checks the peer and starts its goroutines.
func (s *Server) admit(nc *net.UnixConn) {
	cred, err := peerCred(nc)
	if err != nil {
		s.refused.Add(1)
		s.log.Warn("pfkey peer refused: no credentials", zap.Error(err))
		nc.Close()
		return
	}
	if !s.allowed(cred) {
		s.refused.Add(1)
		s.log.Warn("pfkey peer refused", zap.Int32("pid", cred.PID), zap.Uint32("uid", cred.UID), zap.Uint32("gid", cred.GID))
		nc.Close()
		return
	}
	// Room for a burst of replies (a dump, ADD acknowledgements) between
	// two reads of a client, so the writer sleeps less.
	nc.SetWriteBuffer(sndBuf)
	c := newConn(s, nc, cred)
	s.mu.Lock()
	if s.closed || len(s.conns) >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.refused.Add(1)
		s.log.Warn("pfkey peer refused: too many connections", zap.Int32("pid", cred.PID), zap.Uint32("uid", cred.UID))
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	s.log.Debug("pfkey client connected", zap.Uint64("conn", c.id), zap.Int32("pid", cred.PID), zap.Uint32("uid", cred.UID))
	s.h.Opened(c)
	go c.writeLoop()
	go c.readLoop()
}

func (s *Server) allowed(c Cred) bool {
	return c.UID == s.euid || slices.Contains(s.cfg.AllowUIDs, c.UID) || slices.Contains(s.cfg.AllowGIDs, c.GID)
}

// drop forgets a closed connection.
func (s *Server) drop(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops accepting, closes every connection, waits for their
// goroutines and removes the socket file if it is still ours.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	if fi, e := os.Lstat(s.cfg.Path); e == nil && inode(fi) == s.ino {
		os.Remove(s.cfg.Path)
	}
	return err
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
