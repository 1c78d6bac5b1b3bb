// Package ipsecdtest is for tests only: it gives the tests of the programs
// that talk to ipsecd (setkey, the PF_KEY shim, ipsecd itself) a real
// ipsecd, built and started, or the PF_KEY server ipsecd runs, in-process.
//
//	Build(t)      go build cmd/ipsecd into t.TempDir()
//	Start(t)      Build, run it on a loopback ring port, wait for its
//	              PF_KEY socket and return the path; SIGTERM at cleanup
//	KeyServer(t)  keysock + keyserver over a ctrl.Manager in this process;
//	              returns the socket path and the Manager
//
// It lives outside cmd/ipsecd's internal/ so lib/ tests can import it.
package ipsecdtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/keyserver"
	"github.com/fastipsec/fastipsec/ctrl/keysock"
)

// Build compiles cmd/ipsecd into a temporary directory and returns the
// binary's path. It works from any package directory of the module.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ipsecd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/fastipsec/fastipsec/cmd/ipsecd").CombinedOutput(); err != nil {
		t.Fatalf("go build ipsecd: %v\n%s", err, out)
	}
	return bin
}

// Start builds ipsecd, runs it on a loopback ring port with its PF_KEY
// socket in a temporary directory, and returns the socket path once the
// socket exists. The daemon is stopped with SIGTERM at the end of the test.
// It skips under -short.
func Start(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building and starting ipsecd")
	}
	bin := Build(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "pfkey.sock")
	cfg := filepath.Join(dir, "ipsecd.yaml")
	yaml := fmt.Sprintf(`cores: [0]
pfkey: {socket: %q}
admin: {socket: %q}
ports:
  - {name: lan, driver: ring, addresses: [192.0.2.1/24]}
`, sock, filepath.Join(dir, "admin.sock"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "ipsecd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfg, "--log-json")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return sock
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("ipsecd exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("ipsecd made no PF_KEY socket at %s in 20 s\n%s", sock, log)
		}
	}
}

// KeyServer runs the PF_KEY server ipsecd runs (keysock + keyserver over a
// Manager, "auto" dialect) in this process and returns its socket path and
// the Manager. Both stop at the end of the test.
func KeyServer(t testing.TB) (string, *ctrl.Manager) {
	t.Helper()
	m := ctrl.NewManager(nil)
	ks, err := keyserver.New(m, "auto", nil)
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
	return sock.Path(), m
}
