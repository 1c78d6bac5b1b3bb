package keysock

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dialAs connects to path from a thread running as uid/gid (raw
// setresuid/setresgid change only the calling thread; the saved ids stay
// 0 so the thread switches back). If switching back fails, the thread is
// left locked and dies with its goroutine.
func dialAs(t *testing.T, path string, uid, gid int) (*net.UnixConn, error) {
	t.Helper()
	type result struct {
		c   *net.UnixConn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), 0); e != 0 {
			ch <- result{nil, e}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), 0); e != 0 {
			ch <- result{nil, e}
			return
		}
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		}
		_, _, e1 := unix.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0)
		_, _, e2 := unix.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0)
		if e1 == 0 && e2 == 0 {
			runtime.UnlockOSThread()
		}
		if err != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			ch <- result{nil, err}
			return
		}
		f := os.NewFile(uintptr(fd), "client")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			ch <- result{nil, err}
			return
		}
		ch <- result{nc.(*net.UnixConn), nil}
	}()
	r := <-ch
	return r.c, r.err
}

// TestRefusesDisallowedUID: a peer whose uid and gid are not allowed is
// disconnected at once; an allowed uid is served; with the default mode
// 0600 an unprivileged peer cannot even connect.
func TestRefusesDisallowedUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to connect as another uid")
	}
	dir, err := os.MkdirTemp("", "keysock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)

	open := listen(t, newEcho(), Config{Path: filepath.Join(dir, "open.sock"), Mode: 0o666, AllowUIDs: []uint32{1234}})
	c, err := dialAs(t, open.Path(), 65534, 65534)
	if err != nil {
		t.Fatalf("connect as nobody: %v", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Errorf("refused peer read %d bytes", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("refused peer not disconnected")
	}
	if open.Refused() != 1 {
		t.Errorf("Refused %d, want 1", open.Refused())
	}

	ok, err := dialAs(t, open.Path(), 1234, 65534)
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	ok.Write([]byte("hi"))
	if got := readMsg(t, ok); string(got) != "hi" {
		t.Errorf("allowed uid got %q", got)
	}
	byGID := listen(t, newEcho(), Config{Path: filepath.Join(dir, "gid.sock"), Mode: 0o666, AllowGIDs: []uint32{4321}})
	g, err := dialAs(t, byGID.Path(), 65534, 4321)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.Write([]byte("hi"))
	if got := readMsg(t, g); string(got) != "hi" {
		t.Errorf("allowed gid got %q", got)
	}

	closed := listen(t, newEcho(), Config{Path: filepath.Join(dir, "closed.sock")})
	if c, err := dialAs(t, closed.Path(), 65534, 65534); err != syscall.EACCES {
		if c != nil {
			c.Close()
		}
		t.Errorf("connect to a 0600 socket as nobody: %v, want EACCES", err)
	}
}
