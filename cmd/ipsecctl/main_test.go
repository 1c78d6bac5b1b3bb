package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/ctrl/admin"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/ipsec/enc"
	"github.com/fastipsec/fastipsec/ports/pcap"
)

type daemon struct {
	sock string
	mgr  *ctrl.Manager
	ifc  *enc.Interface
	tap  *enc.Tap
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	d := &daemon{sock: filepath.Join(t.TempDir(), "admin.sock"), mgr: ctrl.NewManager(nil), ifc: enc.New("enc0")}
	d.tap = d.ifc.Attach()
	srv, err := admin.Listen(admin.Config{Socket: d.sock, Manager: d.mgr, Enc: d.ifc,
		Stats: func() admin.Stats { return admin.Stats{Ports: []admin.PortStats{{Name: "lan"}}} }})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	return d
}

func (d *daemon) ctl(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(append([]string{"-s", d.sock}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestSysctl(t *testing.T) {
	d := startDaemon(t)
	out, _, err := d.ctl(t, "sysctl", "net.inet.ipsec.dfbit")
	if err != nil || out != "net.inet.ipsec.dfbit: 0\n" {
		t.Fatalf("read: %q %v", out, err)
	}
	out, _, err = d.ctl(t, "sysctl", "-w", "net.inet.ipsec.dfbit=1", "net.inet6.ipsec6.ecn=1")
	if err != nil || out != "net.inet.ipsec.dfbit: 0 -> 1\nnet.inet6.ipsec6.ecn: 0 -> 1\n" {
		t.Fatalf("write: %q %v", out, err)
	}
	out, _, _ = d.ctl(t, "sysctl", "-n", "net.inet.ipsec.dfbit")
	if out != "1\n" {
		t.Fatalf("-n: %q", out)
	}
	out, _, err = d.ctl(t, "sysctl", "-a")
	if err != nil || !strings.Contains(out, "net.inet.ipsec.filtertunnel: 0\n") || !strings.Contains(out, "net.key.preferred_oldsa: 1\n") {
		t.Fatalf("-a: %q %v", out, err)
	}
	before := *d.mgr.Knobs.Load()
	for _, bad := range [][]string{
		{"sysctl", "-w", "net.inet.ipsec.dfbit=2", "net.inet.ipsec.nosuch=1"},
		{"sysctl", "net.inet.ipsec.dfbit=3"},
		{"sysctl", "-w", "net.inet.ipsec.dfbit"},
		{"sysctl", "net.inet.ipsec.nosuch"},
	} {
		if _, _, err := d.ctl(t, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if *d.mgr.Knobs.Load() != before {
		t.Fatal("failed sysctl changed knobs")
	}
	_, _, err = d.ctl(t, "sysctl", "net.inet.ipsec.nosuch")
	if err == nil || !strings.Contains(err.Error(), "unknown oid 'net.inet.ipsec.nosuch'") {
		t.Errorf("unknown oid: %v", err)
	}
}

func TestEncAndStats(t *testing.T) {
	d := startDaemon(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(bad, []byte("drop in proto tcp\ndrop proto nope\n"), 0o644)
	if _, _, err := d.ctl(t, "enc", "set", bad); err == nil || !strings.Contains(err.Error(), "bad.rules:2: unknown protocol \"nope\"") {
		t.Fatalf("bad rules: %v", err)
	}
	good := filepath.Join(dir, "good.rules")
	os.WriteFile(good, []byte("# ssh only from the admin net\npass in proto tcp from 192.0.2.0/24 to any port 22\ndrop in proto tcp to any port 22\n"), 0o644)
	if _, errOut, err := d.ctl(t, "enc", "set", good); err != nil || errOut != "enc0: 2 rules\n" {
		t.Fatalf("set: %q %v", errOut, err)
	}
	out, _, err := d.ctl(t, "enc", "rules")
	want := "pass in proto tcp from 192.0.2.0/24 to any port 22 # 0 matches\ndrop in proto tcp to any port 22 # 0 matches\n"
	if err != nil || out != want {
		t.Fatalf("rules: %q %v", out, err)
	}
	// What `enc rules` prints can be fed back.
	again := filepath.Join(dir, "again.rules")
	os.WriteFile(again, []byte(out), 0o644)
	if _, _, err := d.ctl(t, "enc", "set", again); err != nil {
		t.Fatalf("feeding back: %v", err)
	}
	out, _, err = d.ctl(t, "stats")
	if err != nil || !strings.Contains(out, "lan") || !strings.Contains(out, "packets in") {
		t.Fatalf("stats: %q %v", out, err)
	}
	if out, _, err = d.ctl(t, "stats", "-j"); err != nil || !strings.Contains(out, `"name": "lan"`) {
		t.Fatalf("stats -j: %q %v", out, err)
	}
	if err := run([]string{"-s", filepath.Join(dir, "none.sock"), "stats"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "is ipsecd running") {
		t.Fatalf("no daemon: %v", err)
	}
}

// produce sends IPv4 and IPv6 UDP packets through the tap, alternating
// directions and SPIs, until stop.
func (d *daemon) produce(stop *atomic.Bool) {
	pool := pkt.NewPool("t", 4, 0)
	b4, b6 := pool.Get(), pool.Get()
	p4 := make([]byte, 28)
	p4[0], p4[8], p4[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p4[2:], 28)
	copy(p4[12:], []byte{192, 0, 2, 10, 203, 0, 113, 20})
	binary.BigEndian.PutUint16(p4[20:], 5555)
	binary.BigEndian.PutUint16(p4[22:], 7777)
	binary.BigEndian.PutUint16(p4[24:], 8)
	b4.SetBytes(p4)
	p6 := make([]byte, 48)
	p6[0], p6[6], p6[7] = 0x60, 17, 64
	binary.BigEndian.PutUint16(p6[4:], 8)
	p6[8], p6[9], p6[23] = 0x20, 0x01, 1
	p6[24], p6[25], p6[39] = 0x20, 0x01, 2
	binary.BigEndian.PutUint16(p6[44:], 8)
	b6.SetBytes(p6)
	b4.Meta.L4Proto, b4.Meta.L4Off = 17, 20
	b6.Meta.L4Proto, b6.Meta.L4Off = 17, 40
	for i := 0; !stop.Load(); i++ {
		if v := d.tap.Load(); v != nil {
			if i%2 == 0 {
				d.tap.Pass(v, b4, &enc.Info{Dir: enc.DirOut, SPI: 0x1001, Flags: enc.FlagConf | enc.FlagAuth})
			} else {
				d.tap.Pass(v, b6, &enc.Info{Dir: enc.DirIn, SPI: 0x1004, Flags: enc.FlagConf | enc.FlagAuth})
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestCaptureFile(t *testing.T) {
	d := startDaemon(t)
	var stop atomic.Bool
	go d.produce(&stop)
	defer stop.Store(true)
	dir := t.TempDir()
	for _, format := range []string{"pcapng", "pcap"} {
		path := filepath.Join(dir, "enc0."+format)
		_, errOut, err := d.ctl(t, "capture", "enc0", "-w", path, "-c", "10", "-F", format)
		if err != nil || !strings.Contains(errOut, "10 packets captured") {
			t.Fatalf("%s: %q %v", format, errOut, err)
		}
		f, _ := os.Open(path)
		r, err := pcap.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for i := range 10 {
			n, rec, err := r.Next(buf)
			if err != nil {
				t.Fatalf("%s record %d: %v", format, i, err)
			}
			af, spi := binary.BigEndian.Uint32(buf), binary.BigEndian.Uint32(buf[4:])
			if rec.LinkType != pcap.LinkTypeEnc || !(af == 2 && spi == 0x1001 && n == 40 || af == 24 && spi == 0x1004 && n == 60) {
				t.Fatalf("%s record %d: link %v af %d spi %#x len %d", format, i, rec.LinkType, af, spi, n)
			}
		}
		f.Close()
	}
	// "-w -" writes the pcapng stream to standard output.
	var out bytes.Buffer
	if err := run([]string{"-s", d.sock, "capture", "enc0", "-w", "-", "-c", "4"}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if r, err := pcap.NewReader(bytes.NewReader(out.Bytes())); err != nil {
		t.Fatal(err)
	} else if _, rec, err := r.Next(make([]byte, 4096)); err != nil || rec.LinkType != pcap.LinkTypeEnc {
		t.Fatalf("stdout capture: %+v %v", rec, err)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (make deps installs it)")
	}
	out2, err := exec.Command("tshark", "-r", filepath.Join(dir, "enc0.pcapng"), "-T", "fields",
		"-e", "enc.spi", "-e", "frame.packet_flags_direction", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.dstport").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out2)), "\n")
	if len(lines) != 10 {
		t.Fatalf("tshark read %d packets:\n%s", len(lines), out2)
	}
	for _, l := range lines {
		if l != "0x00001001\t0x00000002\t192.0.2.10\t\t7777" && l != "0x00001004\t0x00000001\t\t2001::1\t0" {
			t.Errorf("tshark line %q", l)
		}
	}
}
