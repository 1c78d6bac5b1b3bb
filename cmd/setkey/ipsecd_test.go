package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startIpsecd builds ./cmd/ipsecd, runs it on a loopback ring port with its
// PF_KEY socket in a temporary directory, and returns the socket path. The
// daemon is stopped with SIGTERM at the end of the test.
func startIpsecd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building and starting ipsecd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ipsecd")
	if out, err := exec.Command("go", "build", "-o", bin, "../ipsecd").CombinedOutput(); err != nil {
		t.Fatalf("go build ipsecd: %v\n%s", err, out)
	}
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

// setkey against a running ipsecd: add via -f, -D and -DP show, -F empties.
func TestAgainstIpsecd(t *testing.T) {
	exercise(t, startIpsecd(t))
}
