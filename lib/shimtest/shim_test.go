// Tests of libpfkey-unix.so: a C program that speaks PF_KEY the way racoon,
// setkey and charon do runs under LD_PRELOAD against a fake SOCK_SEQPACKET
// server here (message boundaries, MSG_PEEK, flags, setsockopt) and against
// a real ipsecd (ipsecd_test.go). They skip when gcc is missing.
package shimtest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/fastipsec/fastipsec/cmd/ipsecd/ipsecdtest"
)

// build compiles the shim (warnings are errors) and the test client.
func build(t *testing.T) (shim, client string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the shim is for Linux")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed: the PF_KEY shim is not built")
	}
	dir := t.TempDir()
	shim = filepath.Join(dir, "libpfkey-unix.so")
	client = filepath.Join(dir, "pfkeyclient")
	for _, args := range [][]string{
		{"-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-shared", "-o", shim, "../pfkey-unix.c", "-ldl"},
		{"-Wall", "-Wextra", "-Werror", "-O2", "-o", client, "testdata/pfkeyclient.c"},
	} {
		if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return shim, client
}

// runClient runs the client under the shim against sock and returns stdout.
func runClient(t *testing.T, shim, client, sock string) string {
	t.Helper()
	cmd := exec.Command(client)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+shim, "PFKEY_SOCKET="+sock)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.Bytes())
	}
	return string(out)
}

// PF_KEY numbers (RFC 2367) the fake server needs.
const (
	sadbAdd        = 3
	sadbGet        = 5
	sadbRegister   = 7
	extSuppAuth    = 14
	extSuppEncrypt = 15
)

// fakeServer answers every message on one connection: REGISTER with the
// SUPPORTED lists, anything else echoed with errno 0 after an unrelated
// broadcast (seq 0), so the client must keep the two messages apart. It
// records a problem if a read ever holds other than exactly one message.
type fakeServer struct {
	mu       sync.Mutex
	problems []string
	types    []uint8
}

func (f *fakeServer) problem(s string) {
	f.mu.Lock()
	f.problems = append(f.problems, s)
	f.mu.Unlock()
}

func (f *fakeServer) serve(c *net.UnixConn) {
	defer c.Close()
	buf := make([]byte, 1<<16)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		m := buf[:n]
		if n < 16 || int(binary.NativeEndian.Uint16(m[4:]))*8 != n {
			f.problem(fmt.Sprintf("a read of %d bytes is not one whole message", n))
			return
		}
		f.mu.Lock()
		f.types = append(f.types, m[1])
		f.mu.Unlock()
		var replies [][]byte
		switch m[1] {
		case sadbRegister:
			r := append([]byte(nil), m[:16]...)
			r = append(r, supported(extSuppAuth, 2 /* hmac-sha1 */)...)
			r = append(r, supported(extSuppEncrypt, 20 /* aes-gcm-16 */)...)
			binary.NativeEndian.PutUint16(r[4:], uint16(len(r)/8))
			replies = [][]byte{r}
		default:
			bcast := append([]byte(nil), m...)
			binary.NativeEndian.PutUint32(bcast[8:], 0)
			replies = [][]byte{bcast, append([]byte(nil), m...)}
		}
		for _, r := range replies {
			if _, err := c.Write(r); err != nil {
				return
			}
		}
	}
}

// supported is a SUPPORTED extension with one algorithm.
func supported(ext uint16, alg uint8) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint16(b[0:], 2)
	binary.NativeEndian.PutUint16(b[2:], ext)
	b[8] = alg
	b[9] = 8                                   // ivlen
	binary.NativeEndian.PutUint16(b[10:], 128) // min bits
	binary.NativeEndian.PutUint16(b[12:], 256) // max bits
	return b
}

func TestShimAgainstFakeServer(t *testing.T) {
	shim, client := build(t)
	sock := filepath.Join(t.TempDir(), "pfkey.sock")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: sock, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := &fakeServer{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					f.problem(err.Error())
				}
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()

	got := runClient(t, shim, client, sock)
	ln.Close()
	wg.Wait()
	want := `socket cloexec=1
setsockopt ok
REGISTER type=7 errno=0 satype=3 exts=14,15
ADD type=3 errno=0 satype=3 exts=1(spi=0x00001000),5,6,19,9
GET type=5 errno=0 satype=3 exts=1(spi=0x00001000),5,6
nonblock recv=-1 eagain=1
inet untouched=1
reused fd=1 untouched=1
`
	if got != want {
		t.Errorf("client output:\n%s\nwant:\n%s", got, want)
	}
	if len(f.problems) > 0 {
		t.Errorf("server: %v", f.problems)
	}
	if string(f.types) != string([]byte{sadbRegister, sadbAdd, sadbGet}) {
		t.Errorf("server saw message types %v, want REGISTER, ADD, GET", f.types)
	}
}

// With no server, socket(PF_KEY, ...) fails with the connect error, as a
// client expects when PF_KEY is unavailable, instead of hanging.
func TestShimNoServer(t *testing.T) {
	shim, client := build(t)
	sock := filepath.Join(t.TempDir(), "absent.sock")
	cmd := exec.Command(client)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+shim, "PFKEY_SOCKET="+sock)
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("client succeeded without a server:\n%s", out)
	}
	if want := "FAIL socket: No such file or directory\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// checkRealReplies checks the client's lines against a real server: the
// SUPPORTED lists for REGISTER, the ADD accepted, and GET returning the SA
// (SPI 0x1000) with its encryption key.
func checkRealReplies(t *testing.T, got string) {
	t.Helper()
	for _, re := range []string{
		`(?m)^socket cloexec=1$`,
		`(?m)^setsockopt ok$`,
		`(?m)^REGISTER type=7 errno=0 satype=3 exts=(14,15|15,14)$`,
		`(?m)^ADD type=3 errno=0 satype=3 exts=.*1\(spi=0x00001000\)`,
		`(?m)^GET type=5 errno=0 satype=3 exts=.*1\(spi=0x00001000\).*\b9\b`,
		`(?m)^nonblock recv=-1 eagain=1$`,
		`(?m)^inet untouched=1$`,
		`(?m)^reused fd=1 untouched=1$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("client output lacks %s:\n%s", re, got)
		}
	}
}

func TestShimAgainstKeyServer(t *testing.T) {
	shim, client := build(t)
	sock, _ := ipsecdtest.KeyServer(t)
	out := runClient(t, shim, client, sock)
	t.Log(out)
	checkRealReplies(t, out)
}
