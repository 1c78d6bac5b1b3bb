//go:build linux

package netnstest

import (
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// RequireRoot skips the test unless it runs as root with iproute2 present.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces, veth, TUN/TAP, AF_PACKET)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: iproute2 `ip` not found")
	}
}

// Name returns a name of at most 15 bytes (an ifname) unique to the test,
// the process and the given tag: prefix tag + hash(test name, pid).
func Name(t testing.TB, tag string) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	s := fmt.Sprintf("%s%08x", tag, h.Sum32())
	if len(s) > 15 {
		s = s[len(s)-15:]
	}
	return s
}

// NewNS creates a network namespace unique to the test and deletes it in
// t.Cleanup. Deleting the namespace also deletes every device in it.
func NewNS(t testing.TB, tag string) string {
	t.Helper()
	ns := Name(t, tag)
	run(t, "ip", "netns", "del", ns) // stale from a crashed run of this pid; ignore errors
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	// No IPv6 autoconfiguration chatter (RS, MLD, DAD) on links made later.
	IP(t, ns, "link", "set", "lo", "up")
	Exec(t, ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.all.disable_ipv6=1")
	return ns
}

// EnableIPv6 turns IPv6 back on for the namespace (NewNS disables it).
func EnableIPv6(t testing.TB, ns string) {
	t.Helper()
	Exec(t, ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=0", "net.ipv6.conf.all.disable_ipv6=0")
}

// IP runs `ip -n ns args...` and fails the test on error.
func IP(t testing.TB, ns string, args ...string) string {
	t.Helper()
	return mustRun(t, "ip", append([]string{"-n", ns}, args...)...)
}

// Exec runs a command inside ns (`ip netns exec`) and fails the test on error.
func Exec(t testing.TB, ns string, args ...string) string {
	t.Helper()
	return mustRun(t, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Veth creates a veth pair a<->b inside ns, both up, and returns the names.
func Veth(t testing.TB, ns string) (a, b string) {
	t.Helper()
	a, b = Name(t, "va"), Name(t, "vb")
	IP(t, ns, "link", "add", a, "type", "veth", "peer", "name", b)
	IP(t, ns, "link", "set", a, "up")
	IP(t, ns, "link", "set", b, "up")
	return a, b
}

// Do runs fn on a dedicated OS thread that has entered ns and fails the
// test if fn returns an error (fn must not call t.Fatal: it runs on another
// goroutine). The thread is never returned to the Go scheduler: it exits
// with the goroutine.
func Do(t testing.TB, ns string, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the runtime ends a thread still locked at exit.
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("panic in netns %s: %v", ns, r)
			}
		}()
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func run(t testing.TB, name string, args ...string) {
	_ = exec.Command(name, args...).Run()
}
