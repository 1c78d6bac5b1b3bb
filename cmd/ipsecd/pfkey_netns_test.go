package main

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl/pfkey"
)

// pfkeyClient speaks PF_KEY (Linux dialect) over ipsecd's socket.
type pfkeyClient struct {
	t   *testing.T
	c   *net.UnixConn
	seq uint32
	buf []byte
}

func (c *pfkeyClient) do(m *pfkey.Msg) *pfkey.Msg {
	c.t.Helper()
	c.seq++
	m.Version, m.Seq, m.PID = pfkey.Version, c.seq, uint32(os.Getpid())
	b, err := pfkey.Encode(pfkey.Linux, m)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatal(err)
	}
	r := c.recv()
	if r.Seq != c.seq || r.Type != m.Type || r.Errno != 0 {
		c.t.Fatalf("reply to type %d: type %d seq %d errno %v", m.Type, r.Type, r.Seq, r.Errno)
	}
	return r
}

func (c *pfkeyClient) recv() *pfkey.Msg {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.c.Read(c.buf)
	if err != nil {
		c.t.Fatal(err)
	}
	m, err := pfkey.Decode(pfkey.Linux, c.buf[:n])
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func sockaddr(s string, bits int, proto uint8) *pfkey.Address {
	a := netip.MustParseAddr(s)
	return &pfkey.Address{Proto: proto, PrefixLen: uint8(bits), Addr: netip.AddrPortFrom(a, 0)}
}

// TestPFKeyKeysTheTunnel runs ipsecd live in a namespace router, keys it
// over its PF_KEY socket from a Go client (REGISTER, ADD, SPDADD), sends
// pings through it and checks that they leave encrypted with that SA and
// that DUMP shows the SA's byte and packet counters.
//
//	[h1 192.0.2.10]──[rtr: ipsecd lan 192.0.2.1 | wan 198.51.100.1]──[h2 198.51.100.10: tcpdump esp]
func TestPFKeyKeysTheTunnel(t *testing.T) {
	h1, h2, rtr := routerNet(t, "fk", false, "tcpdump")
	dir := t.TempDir()
	sock := filepath.Join(dir, "pfkey.sock")
	startRouter(t, rtr, dir, `
cores: [0]
pfkey: {socket: `+sock+`}
ports:
  - {name: lan, driver: afpacket, interface: lan0, addresses: [192.0.2.1/24]}
  - {name: wan, driver: afpacket, interface: wan0, addresses: [198.51.100.1/24]}
`)

	var nc *net.UnixConn
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: sock, Net: "unixpacket"})
		if err == nil {
			nc = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PF_KEY socket never came up: %v", err)
		}
	}
	defer nc.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600", fi.Mode(), err)
	}
	c := &pfkeyClient{t: t, c: nc, buf: make([]byte, 1<<16)}

	r := c.do(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgRegister, SAType: pfkey.SATypeESP}})
	if r.SupportedEncrypt == nil || r.SupportedAuth == nil {
		t.Fatal("REGISTER reply without SUPPORTED lists")
	}
	key := []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13")
	c.do(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgAdd, SAType: pfkey.SATypeESP},
		SA:     &pfkey.SA{SPI: 0x2001, Replay: 32, State: pfkey.SAStateMature, Encrypt: pfkey.EAlgAESGCM16},
		SA2:    &pfkey.SA2{Mode: pfkey.ModeTunnel},
		Src:    sockaddr("198.51.100.1", 32, pfkey.ProtoAny),
		Dst:    sockaddr("198.51.100.10", 32, pfkey.ProtoAny),
		EncKey: &pfkey.Key{Bits: uint16(len(key) * 8), Data: key},
	})
	p := c.do(&pfkey.Msg{Header: pfkey.Header{Type: pfkey.MsgSPDAdd},
		Src: sockaddr("192.0.2.0", 24, pfkey.ProtoAny), Dst: sockaddr("198.51.100.10", 32, pfkey.ProtoAny),
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, Priority: 0x80000000,
			Requests: []pfkey.IPsecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
				Src: netip.MustParseAddrPort("198.51.100.1:0"), Dst: netip.MustParseAddrPort("198.51.100.10:0")}}}})
	if p.Policy.ID%8 != 1 { // n<<3 | out
		t.Errorf("policy id %d", p.Policy.ID)
	}

	// tcpdump on h2 waits for three ESP packets with our SPI.
	tcpdump := exec.Command("ip", "netns", "exec", h2, "timeout", "20", "tcpdump", "-n", "-l", "-i", "eth0", "-c", "3", "esp")
	var dumpOut bytes.Buffer
	tcpdump.Stdout = &dumpOut
	stderr, _ := tcpdump.StderrPipe()
	if err := tcpdump.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump did not start")
	}
	// h2 cannot decrypt, so the pings get no answer; only their way out counts.
	exec.Command("ip", "netns", "exec", h1, "ping", "-c", "3", "-i", "0.2", "-W", "1", "198.51.100.10").Run()
	if err := tcpdump.Wait(); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, dumpOut.String())
	}
	out := dumpOut.String()
	if strings.Count(out, "ESP(spi=0x00002001") != 3 || !strings.Contains(out, "198.51.100.1 > 198.51.100.10") {
		t.Errorf("want 3 ESP packets 198.51.100.1 > 198.51.100.10 with spi 0x2001, tcpdump saw:\n%s", out)
	}

	c.seq++
	b, _ := pfkey.Encode(pfkey.Linux, &pfkey.Msg{Header: pfkey.Header{Version: pfkey.Version, Type: pfkey.MsgDump,
		SAType: pfkey.SATypeESP, Seq: c.seq, PID: uint32(os.Getpid())}})
	c.c.Write(b)
	d := c.recv()
	if d.Type != pfkey.MsgDump || d.Errno != 0 || d.Seq != 0 || d.SA == nil || d.SA.SPI != 0x2001 {
		t.Fatalf("DUMP %+v", d.Header)
	}
	if d.LifetimeCurrent == nil || d.LifetimeCurrent.Allocations < 3 || d.LifetimeCurrent.Bytes < 3*84 {
		t.Errorf("DUMP counters %+v, want >= 3 packets of >= 84 bytes", d.LifetimeCurrent)
	}
}
