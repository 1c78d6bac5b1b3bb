package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/cmd/ipsecd/ipsecdtest"
)

// TestPingThroughRouterInNamespaces builds three network namespaces —
// two hosts and a router — joined by veth pairs, runs the ipsecd binary
// in the router namespace on afpacket ports, and pings (v4 and v6) from
// one host to the other through it. Nothing outside the namespaces the
// test made sees any traffic.
//
//	[h1 192.0.2.10]──veth──[rtr: ipsecd lan 192.0.2.1 | wan 198.51.100.1]──veth──[h2 198.51.100.10]
func TestPingThroughRouterInNamespaces(t *testing.T) {
	h1, h2, rtr := routerNet(t, "fi", true)
	dir := t.TempDir()
	d := startRouter(t, rtr, dir, `
cores: [0]
engine: {idle: adaptive}
pfkey: {socket: `+filepath.Join(dir, "pfkey.sock")+`}
ports:
  - {name: lan, driver: afpacket, interface: lan0, addresses: [192.0.2.1/24, "2001:db8:1::1/64"]}
  - {name: wan, driver: afpacket, interface: wan0, addresses: [198.51.100.1/24, "2001:db8:2::1/64"]}
`)
	time.Sleep(500 * time.Millisecond)

	ping := func(ns string, args ...string) error {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	}
	if err := ping(h1, "198.51.100.10"); err != nil {
		t.Errorf("IPv4 ping h1 -> h2 through ipsecd failed: %v", err)
	}
	if err := ping(h2, "-6", "2001:db8:1::10"); err != nil {
		t.Errorf("IPv6 ping h2 -> h1 through ipsecd failed: %v", err)
	}
	if err := ping(h1, "192.0.2.1"); err != nil {
		t.Errorf("ping to the router itself failed: %v", err)
	}
	// TTL: a ping with TTL 1 gets time-exceeded from the router.
	out, _ := exec.Command("ip", "netns", "exec", h1, "ping", "-c", "1", "-t", "1", "-W", "2", "198.51.100.10").CombinedOutput()
	if !strings.Contains(string(out), "Time to live exceeded") && !strings.Contains(string(out), "Time exceeded") {
		t.Errorf("no time-exceeded for TTL 1:\n%s", out)
	}

	// SIGTERM drains and exits 0.
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.exited <- err
		if err != nil {
			t.Errorf("ipsecd exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("ipsecd did not exit on SIGTERM")
	}
}

// routerNet makes three network namespaces named prefix-h1-, prefix-h2-
// and prefix-rt- plus the pid: two hosts and a router between them
// joined by veth pairs, h1:eth0 <-> rtr:lan0 and h2:eth0 <-> rtr:wan0.
// The router's interfaces are up with no addresses and no IPv6, so its
// kernel stays out of the way; the hosts have 192.0.2.10/24 and
// 198.51.100.10/24 with default routes via .1 and, when v6, also
// 2001:db8:1::10/64 and 2001:db8:2::10/64 via ::1 (else IPv6 off).
// It skips unless root with ip and ping installed.
func routerNet(t *testing.T, prefix string, v6 bool, tools ...string) (h1, h2, rtr string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and veth pairs")
	}
	for _, tool := range append([]string{"ip", "ping"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs it)", tool)
		}
	}
	tag := fmt.Sprintf("%d", os.Getpid()%100000)
	h1, h2, rtr = prefix+"-h1-"+tag, prefix+"-h2-"+tag, prefix+"-rt-"+tag
	for _, ns := range []string{h1, h2, rtr} {
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	in := func(ns string, args ...string) { mustRun(t, append([]string{"ip", "netns", "exec", ns}, args...)...) }
	mustRun(t, "ip", "link", "add", "lan0", "netns", rtr, "type", "veth", "peer", "name", "eth0", "netns", h1)
	mustRun(t, "ip", "link", "add", "wan0", "netns", rtr, "type", "veth", "peer", "name", "eth0", "netns", h2)
	for _, ifc := range []string{"lan0", "wan0"} {
		in(rtr, "sysctl", "-qw", "net.ipv6.conf."+ifc+".disable_ipv6=1")
		in(rtr, "ip", "link", "set", ifc, "up")
	}
	hosts := []struct{ ns, addr, addr6, gw, gw6 string }{
		{h1, "192.0.2.10/24", "2001:db8:1::10/64", "192.0.2.1", "2001:db8:1::1"},
		{h2, "198.51.100.10/24", "2001:db8:2::10/64", "198.51.100.1", "2001:db8:2::1"},
	}
	for _, h := range hosts {
		if !v6 {
			in(h.ns, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1")
		}
		in(h.ns, "ip", "link", "set", "lo", "up")
		in(h.ns, "ip", "addr", "add", h.addr, "dev", "eth0")
		if v6 {
			in(h.ns, "ip", "-6", "addr", "add", h.addr6, "dev", "eth0", "nodad")
		}
		in(h.ns, "ip", "link", "set", "eth0", "up")
		in(h.ns, "ip", "route", "add", "default", "via", h.gw)
		if v6 {
			in(h.ns, "ip", "-6", "route", "add", "default", "via", h.gw6)
		}
	}
	return h1, h2, rtr
}

// mustRun runs a command and fails the test if it fails.
func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// router is an ipsecd started by startRouter.
type router struct {
	cmd    *exec.Cmd
	exited chan error // its Wait result; a reader puts it back
}

// startRouter builds ipsecd and starts it in namespace ns with config cfg
// written to dir, logging to dir/ipsecd.log. At the end of the test it is
// killed, and its log shown if the test failed.
func startRouter(t *testing.T, ns, dir, cfg string) *router {
	t.Helper()
	bin := ipsecdtest.Build(t)
	cfgPath := filepath.Join(dir, "ipsecd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "ipsecd.log"))
	if err != nil {
		t.Fatal(err)
	}
	r := &router{cmd: exec.Command("ip", "netns", "exec", ns, bin, "-c", cfgPath, "--log-json"), exited: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.exited
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("ipsecd log:\n%s", b)
		}
	})
	return r
}
