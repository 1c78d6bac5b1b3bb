package main

import (
	"bytes"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// fakeKernel is an in-test PF_KEY server on a SOCK_SEQPACKET socket: it
// records every request and answers with what reply returns for it.
type fakeKernel struct {
	path  string
	ln    *net.UnixListener
	reply func(req *pfkey.Msg) []*pfkey.Msg
	// raw, when set, answers with bytes instead (nil ends the connection).
	raw func(req *pfkey.Msg) [][]byte

	mu   sync.Mutex
	got  [][]byte // raw requests in arrival order
	errs []error
	wg   sync.WaitGroup
}

const testPID = 4242

func init() {
	pid = func() uint32 { return testPID }
	zone = time.UTC
	clock = func() time.Time { return time.Date(2026, 11, 29, 9, 0, 30, 0, time.UTC) }
}

func newFakeKernel(t *testing.T, reply func(req *pfkey.Msg) []*pfkey.Msg) *fakeKernel {
	t.Helper()
	f := &fakeKernel{path: filepath.Join(t.TempDir(), "pfkey.sock"), reply: reply}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: f.path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
		for _, err := range f.errs {
			t.Errorf("fake server: %v", err)
		}
	})
	return f
}

func (f *fakeKernel) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.AcceptUnix()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go f.serve(c)
	}
}

func (f *fakeKernel) fail(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

func (f *fakeKernel) serve(c *net.UnixConn) {
	defer f.wg.Done()
	defer c.Close()
	buf := make([]byte, pfkey.MaxMsgLen)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		f.mu.Lock()
		f.got = append(f.got, raw)
		f.mu.Unlock()
		m, err := pfkey.Decode(pfkey.FreeBSD, raw)
		if err != nil {
			f.fail(err)
			return
		}
		if err := pfkey.CheckRequest(pfkey.FreeBSD, m); err != nil {
			f.fail(err)
		}
		if f.raw != nil {
			for _, b := range f.raw(m) {
				if b == nil {
					return
				}
				if _, err := c.Write(b); err != nil {
					return
				}
			}
			continue
		}
		for _, r := range f.reply(m) {
			if r == nil { // hang up
				return
			}
			b, err := pfkey.Encode(pfkey.FreeBSD, r)
			if err != nil {
				f.fail(err)
				return
			}
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}
}

func (f *fakeKernel) requests() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.got...)
}

// ack answers like key.c: REGISTER with the SUPPORTED lists; everything
// else with the request's header and errno 0, preceded by the same
// change broadcast for another process, which setkey must skip.
func ack(req *pfkey.Msg) []*pfkey.Msg {
	if req.Type == pfkey.MsgRegister {
		return []*pfkey.Msg{supported(req)}
	}
	other := *pfkey.ErrorReply(req.Header, 0)
	other.PID = 1
	return []*pfkey.Msg{&other, pfkey.ErrorReply(req.Header, 0)}
}

func supported(req *pfkey.Msg) *pfkey.Msg {
	r := pfkey.ErrorReply(req.Header, 0)
	r.SupportedAuth = &pfkey.Supported{Algs: []pfkey.Alg{{ID: pfkey.AAlgSHA1HMAC, MinBits: 160, MaxBits: 160}}}
	r.SupportedEncrypt = &pfkey.Supported{Algs: []pfkey.Alg{{ID: pfkey.EAlgAESGCM16, IVLen: 8, MinBits: 160, MaxBits: 288}}}
	return r
}

// runSetkey runs the command in-process and returns status, stdout, stderr.
func runSetkey(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	status := run(args, bytes.NewBufferString(stdin), &out, &errb)
	return status, out.String(), errb.String()
}

func errnoReply(req *pfkey.Msg, e syscall.Errno) []*pfkey.Msg {
	return []*pfkey.Msg{pfkey.ErrorReply(req.Header, e)}
}
