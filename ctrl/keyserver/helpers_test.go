package keyserver

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// env is a Manager, its PF_KEY server and socket in a temporary directory.
type env struct {
	t    testing.TB
	m    *ctrl.Manager
	ks   *Server
	sock *keysock.Server
}

func newEnv(t testing.TB, dialect string) *env {
	t.Helper()
	m := ctrl.NewManager(nil)
	ks, err := New(m, dialect, nil)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := keysock.Listen(keysock.Config{Path: filepath.Join(t.TempDir(), "pfkey.sock")}, ks, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { m.Run(ctx); done <- struct{}{} }()
	go func() { sock.Serve(); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		sock.Close()
		<-done
		<-done
	})
	return &env{t: t, m: m, ks: ks, sock: sock}
}

// tclient is a test PF_KEY client.
type tclient struct {
	t   testing.TB
	c   *net.UnixConn
	d   pfkey.Dialect
	pid uint32
	seq uint32
	buf []byte
}

var nextPID atomic.Uint32

// dial connects and makes a round trip, so the server knows the client
// before the test goes on.
func (e *env) dial(d pfkey.Dialect) *tclient { return dialTB(e.t, e, d) }

func dialTB(t testing.TB, e *env, d pfkey.Dialect) *tclient {
	t.Helper()
	nc, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: e.sock.Path(), Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &tclient{t: t, c: nc, d: d, pid: nextPID.Add(1), buf: make([]byte, keysock.MaxMessage)}
	// An SPDGET of id 0 fails (ENOENT) to the requester only.
	r := c.roundTrip(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDGet},
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound}})
	if r.Errno != syscall.ENOENT {
		t.Fatalf("handshake: errno %v", r.Errno)
	}
	return c
}

// send fills in version, seq and pid and sends m; it returns the seq.
func (c *tclient) send(m *pfkey.Msg) uint32 {
	c.t.Helper()
	c.seq++
	m.Version, m.Seq, m.PID = pfkey.Version, c.seq, c.pid
	b, err := pfkey.Encode(c.d, m)
	if err != nil {
		c.t.Fatalf("encode %d: %v", m.Type, err)
	}
	c.sendRaw(b)
	return c.seq
}

func (c *tclient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *tclient) recvRaw() []byte {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.c.Read(c.buf)
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	return bytes.Clone(c.buf[:n])
}

func (c *tclient) recv() *pfkey.Msg {
	c.t.Helper()
	b := c.recvRaw()
	m, err := pfkey.Decode(c.d, b)
	if err != nil {
		c.t.Fatalf("decode reply %x: %v", b[:min(len(b), 16)], err)
	}
	return m
}

// roundTrip sends m and returns the reply, checking it echoes seq, pid
// and type.
func (c *tclient) roundTrip(m *pfkey.Msg) *pfkey.Msg {
	c.t.Helper()
	typ := m.Type
	seq := c.send(m)
	r := c.recv()
	if r.Seq != seq || r.PID != c.pid || r.Type != typ {
		c.t.Fatalf("reply seq %d pid %d type %d, want %d %d %d", r.Seq, r.PID, r.Type, seq, c.pid, typ)
	}
	return r
}

// ok is roundTrip expecting errno 0.
func (c *tclient) ok(m *pfkey.Msg) *pfkey.Msg {
	c.t.Helper()
	r := c.roundTrip(m)
	if r.Errno != 0 {
		c.t.Fatalf("type %d: errno %v", m.Type, r.Errno)
	}
	return r
}

// none checks that nothing arrives for a while.
func (c *tclient) none() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := c.c.Read(c.buf)
	var ne net.Error
	if err == nil {
		c.t.Fatalf("unexpected message type %d (%d bytes)", c.buf[1], n)
	}
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("read: %v", err)
	}
}

func addr(s string) *pfkey.Address {
	a := netip.MustParseAddr(s)
	return &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(a.BitLen()), Addr: netip.AddrPortFrom(a, 0)}
}

func selAddr(prefix string, proto uint8, port uint16) *pfkey.Address {
	p := netip.MustParsePrefix(prefix)
	return &pfkey.Address{Proto: proto, PrefixLen: uint8(p.Bits()), Addr: netip.AddrPortFrom(p.Addr(), port)}
}

var gcmKey = []byte("0123456789abcdefSALT") // 128-bit key + 4-byte salt

// addMsg is an AES-GCM-16 tunnel SA.
func addMsg(spi uint32, src, dst string) *pfkey.Msg {
	return &pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgAdd, SAType: pfkey.SATypeESP},
		SA:     &pfkey.SA{SPI: spi, Replay: 32, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
		SA2:    &pfkey.SA2{Mode: pfkey.ModeTunnel, ReqID: 1},
		Src:    addr(src),
		Dst:    addr(dst),
		EncKey: &pfkey.Key{Bits: uint16(len(gcmKey) * 8), Data: bytes.Clone(gcmKey)},
	}
}

func saID(typ pfkey.MsgType, spi uint32, src, dst string) *pfkey.Msg {
	return &pfkey.Msg{Header: pfkey.Header{Type: typ, SAType: pfkey.SATypeESP},
		SA: &pfkey.SA{SPI: spi}, Src: addr(src), Dst: addr(dst)}
}

func (s *Server) clientCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.clients)
}
