package keysock

import (
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// seqpacketPair returns the two ends of a connected SOCK_SEQPACKET pair.
func seqpacketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ends [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "seqpacket")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ends[i] = c.(*net.UnixConn)
		t.Cleanup(func() { c.Close() })
	}
	return ends[0], ends[1]
}

// TestBatchIOAllocs: a batch written with sendmmsg and read back with
// recvmmsg costs no allocation, so a busy connection feeds no garbage to
// the collector per system call.
func TestBatchIOAllocs(t *testing.T) {
	a, b := seqpacketPair(t)
	w, err := newWriter(a)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReader(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	batch := []outMsg{{b: []byte("0123456789abcdef")}, {b: []byte("fedcba9876543210")}}
	n := testing.AllocsPerRun(100, func() {
		if err := w.write(batch); err != nil {
			t.Fatal(err)
		}
		got := 0
		for got < len(batch) {
			msgs, err := r.next()
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range msgs {
				if string(m) != string(batch[got+i].b) {
					t.Fatalf("read %q, want %q", m, batch[got+i].b)
				}
			}
			got += len(msgs)
			r.wipe()
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per batch written and read, want 0", n)
	}
}
