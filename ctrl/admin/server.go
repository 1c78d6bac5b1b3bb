package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ipsec/knobs"
)

// Config sets up a Server.
type Config struct {
	Socket    string      // path of the Unix socket
	Mode      os.FileMode // its permissions (0600 when zero)
	AllowUIDs []int       // peers allowed by uid; the daemon's own uid always is
	AllowGIDs []int       // peers allowed by primary gid
	Manager   *ctrl.Manager
	Enc       *enc.Interface // nil: no enc0
	Stats     func() Stats   // nil: no stats
	Log       *zap.Logger
}

const (
	maxConns    = 16
	idleTimeout = 10 * time.Minute
	pollEvery   = 2 * time.Millisecond
	writeWait   = 10 * time.Second
)

// Server serves the admin API.
type Server struct {
	cfg    Config
	log    *zap.Logger
	ln     *net.UnixListener
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	sysMu  sync.Mutex // serializes sysctl changes so old -> new is exact

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Listen creates the socket with its mode already set (made in a private
// directory, then renamed into place) and returns the server; Serve
// accepts connections. A stale socket at the path is replaced; a live one
// is an error.
func Listen(cfg Config) (*Server, error) {
	if cfg.Mode == 0 {
		cfg.Mode = 0o600
	}
	if cfg.Manager == nil {
		return nil, errors.New("admin: no control plane")
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	dir := filepath.Dir(cfg.Socket)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := removeStale(cfg.Socket); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".admin-")
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	tpath := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tpath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tpath, cfg.Mode); err == nil {
		err = os.Rename(tpath, cfg.Socket)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, log: log, ln: ln, ctx: ctx, cancel: cancel, sem: make(chan struct{}, maxConns),
		conns: map[net.Conn]struct{}{}}, nil
}

// removeStale removes a socket nobody listens on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("admin socket: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("admin socket: %s is in use by another process", path)
	}
	return os.Remove(path)
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.cfg.Socket }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.log.Warn("admin: too many connections, refusing one")
			c.Close()
			continue
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				<-s.sem
				s.wg.Done()
			}()
			s.serveConn(c)
		}()
	}
}

// Close stops accepting, ends every connection and removes the socket.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	os.Remove(s.cfg.Socket)
	return err
}

// allowed checks the peer's credentials.
func (s *Server) allowed(c *net.UnixConn) bool {
	uid, gid, pid, err := peerCred(c)
	if err != nil {
		s.log.Warn("admin: refused a peer whose credentials are unknown", zap.Error(err))
		return false
	}
	if uid == os.Geteuid() || slices.Contains(s.cfg.AllowUIDs, uid) || slices.Contains(s.cfg.AllowGIDs, gid) {
		return true
	}
	s.log.Warn("admin: refused peer", zap.Int("uid", uid), zap.Int("gid", gid), zap.Int("pid", pid))
	return false
}

func (s *Server) serveConn(c *net.UnixConn) {
	if !s.allowed(c) {
		return
	}
	br := bufio.NewReader(c)
	var buf []byte
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		kind, payload, grown, err := readFrame(br, buf)
		buf = grown
		if err != nil {
			return
		}
		var req Request
		if kind != kindJSON {
			s.reply(c, Response{Error: "expected a JSON request"})
			return
		}
		if err := json.Unmarshal(payload, &req); err != nil {
			s.reply(c, Response{Error: "bad request: " + err.Error()})
			return
		}
		if req.Op == OpCapture {
			s.capture(c, br, &req)
			return
		}
		if s.reply(c, s.handle(&req)) != nil {
			return
		}
	}
}

func (s *Server) reply(c net.Conn, r Response) error {
	c.SetWriteDeadline(time.Now().Add(writeWait))
	return writeJSON(c, r)
}

func (s *Server) handle(req *Request) Response {
	switch req.Op {
	case OpSysctlGet:
		return s.sysctlGet(req.Names)
	case OpSysctlList:
		return s.sysctlGet(knobs.Names())
	case OpSysctlSet:
		return s.sysctlSet(req.Set)
	case OpStats:
		if s.cfg.Stats == nil {
			return Response{Error: "no statistics available"}
		}
		st := s.cfg.Stats()
		return Response{Stats: &st}
	case OpEncRules:
		if s.cfg.Enc == nil {
			return Response{Error: "no enc0 interface"}
		}
		rules, hits := s.cfg.Enc.Rules()
		out := make([]RuleHits, len(rules))
		for i, r := range rules {
			out[i] = RuleHits{Rule: r.String(), Hits: hits[i]}
		}
		return Response{Rules: out}
	case OpEncSet:
		if s.cfg.Enc == nil {
			return Response{Error: "no enc0 interface"}
		}
		name := req.RulesName
		if name == "" {
			name = "rules"
		}
		rules, err := enc.ParseRules(name, req.Rules)
		if err == nil {
			err = s.cfg.Enc.SetRules(rules)
		}
		if err != nil {
			return Response{Error: err.Error()}
		}
		s.log.Info("admin: enc0 rules replaced", zap.Int("rules", len(rules)))
		return s.handle(&Request{Op: OpEncRules})
	}
	return Response{Error: fmt.Sprintf("unknown operation %q", req.Op)}
}

func (s *Server) sysctlGet(names []string) Response {
	v := s.cfg.Manager.Knobs.Load()
	out := make([]Knob, 0, len(names))
	for _, n := range names {
		val, err := v.Get(n)
		if err != nil {
			return Response{Error: err.Error()}
		}
		out = append(out, Knob{Name: n, Value: val, Doc: knobs.Doc(n)})
	}
	return Response{Sysctl: out}
}

func (s *Server) sysctlSet(kv [][2]string) Response {
	if len(kv) == 0 {
		return Response{Error: "nothing to set"}
	}
	s.sysMu.Lock()
	defer s.sysMu.Unlock()
	before := s.cfg.Manager.Knobs.Load()
	if err := s.cfg.Manager.Sysctl(kv); err != nil {
		return Response{Error: err.Error()}
	}
	after := s.cfg.Manager.Knobs.Load()
	out := make([]Knob, 0, len(kv))
	for _, p := range kv {
		old, _ := before.Get(p[0])
		now, _ := after.Get(p[0])
		out = append(out, Knob{Name: p[0], Value: now, Old: &old})
	}
	names := make([]string, len(out))
	for i, k := range out {
		names[i] = fmt.Sprintf("%s=%d", k.Name, k.Value)
	}
	s.log.Info("admin: sysctl", zap.String("set", strings.Join(names, " ")))
	return Response{Sysctl: out}
}

// capture streams enc0's packets until the count is reached, the client
// closes its end or the server closes.
func (s *Server) capture(c *net.UnixConn, br *bufio.Reader, req *Request) {
	if s.cfg.Enc == nil || (req.Iface != "" && req.Iface != s.cfg.Enc.Name()) {
		s.reply(c, Response{Error: fmt.Sprintf("no such interface %q (capture works on enc0)", req.Iface)})
		return
	}
	if req.Count < 0 {
		s.reply(c, Response{Error: "negative count"})
		return
	}
	cp, err := s.cfg.Enc.StartCapture(enc.CaptureOptions{Snaplen: req.Snaplen})
	if err != nil {
		s.reply(c, Response{Error: err.Error()})
		return
	}
	defer cp.Close()
	snap := req.Snaplen
	if snap == 0 {
		snap = enc.DefaultSnaplen
	}
	sum := CaptureSummary{Iface: s.cfg.Enc.Name(), LinkType: enc.LinkType, Snaplen: snap}
	if s.reply(c, Response{Capture: &sum}) != nil {
		return
	}
	s.log.Info("admin: capture started", zap.String("iface", sum.Iface), zap.Int("count", req.Count))
	// The client says nothing more; a read returning means it closed.
	gone := make(chan struct{})
	go func() {
		c.SetReadDeadline(time.Time{})
		br.ReadByte()
		close(gone)
	}()
	bw := bufio.NewWriterSize(c, 256<<10)
	frame := make([]byte, 0, pktHdr+enc.MaxSnaplen)
	var werr error
	emit := func(p *enc.Packet) bool {
		frame = appendPacket(frame[:0], p)
		if werr = writeFrame(bw, kindPacket, frame); werr != nil {
			return false
		}
		sum.Packets++
		return req.Count == 0 || sum.Packets < uint64(req.Count)
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for werr == nil && (req.Count == 0 || sum.Packets < uint64(req.Count)) {
		c.SetWriteDeadline(time.Now().Add(writeWait))
		if cp.Poll(emit) > 0 {
			if werr == nil {
				werr = bw.Flush()
			}
			continue
		}
		select {
		case <-gone:
			werr = errors.New("client closed")
		case <-s.ctx.Done():
			werr = errors.New("server closing")
		case <-tick.C:
		}
	}
	sum.Dropped, sum.Done = cp.Drops(), true
	s.log.Info("admin: capture ended", zap.Uint64("packets", sum.Packets), zap.Uint64("dropped", sum.Dropped))
	if werr == nil || s.ctx.Err() != nil {
		bw.Flush()
		writeJSON(c, Response{Capture: &sum})
	}
}
