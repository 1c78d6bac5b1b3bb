package admin

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fastipsec/fastipsec/ctrl"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/enc"
)

type fixture struct {
	srv  *Server
	mgr  *ctrl.Manager
	ifc  *enc.Interface
	tap  *enc.Tap
	logs *observer.ObservedLogs
	path string
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	f := &fixture{mgr: ctrl.NewManager(nil), ifc: enc.New("enc0"), logs: logs}
	f.tap = f.ifc.Attach()
	f.path = filepath.Join(t.TempDir(), "run", "admin.sock")
	cfg := Config{Socket: f.path, Manager: f.mgr, Enc: f.ifc, Log: zap.New(core),
		Stats: func() Stats {
			return Stats{Cores: []stats.CoreSnapshot{{RxPackets: 7}}, Total: stats.CoreSnapshot{RxPackets: 7},
				Ports: []PortStats{{Name: "lan", PortSnapshot: stats.PortSnapshot{TxPackets: 3}}}}
		}}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := os.Stat(f.path); !os.IsNotExist(err) {
			t.Errorf("socket left behind: %v", err)
		}
	})
	return f
}

func (f *fixture) client(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSocketMode(t *testing.T) {
	f := newFixture(t, nil)
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want socket 0600", fi.Mode())
	}
	// A second daemon on the same path is refused; the first keeps it.
	if _, err := Listen(Config{Socket: f.path, Manager: f.mgr}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen: %v", err)
	}
	g := newFixture(t, func(c *Config) { c.Mode = 0o660 })
	if fi, _ := os.Stat(g.path); fi.Mode().Perm() != 0o660 {
		t.Fatalf("mode %v, want 0660", fi.Mode().Perm())
	}
	// A stale socket file is replaced; a regular file is not touched.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	s1, err := Listen(Config{Socket: stale, Manager: f.mgr})
	if err != nil {
		t.Fatal(err)
	}
	s1.ln.Close() // dies without removing its socket
	s2, err := Listen(Config{Socket: stale, Manager: f.mgr})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s2.Close()
	reg := filepath.Join(t.TempDir(), "file")
	os.WriteFile(reg, nil, 0o600)
	if _, err := Listen(Config{Socket: reg, Manager: f.mgr}); err == nil {
		t.Fatal("a regular file was replaced by the socket")
	}
}

func TestSysctl(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	r, err := c.Do(Request{Op: OpSysctlGet, Names: []string{"net.inet.ipsec.dfbit", "net.inet6.ipsec6.filtertunnel"}})
	if err != nil || len(r.Sysctl) != 2 || r.Sysctl[0].Value != 0 || r.Sysctl[0].Name != "net.inet.ipsec.dfbit" {
		t.Fatalf("get: %+v %v", r, err)
	}
	r, err = c.Do(Request{Op: OpSysctlSet, Set: [][2]string{{"net.inet.ipsec.dfbit", "1"}, {"net.inet.ipsec.filtertunnel", "1"}}})
	if err != nil || len(r.Sysctl) != 2 || *r.Sysctl[0].Old != 0 || r.Sysctl[0].Value != 1 || r.Sysctl[1].Value != 1 {
		t.Fatalf("set: %+v %v", r, err)
	}
	if v, _ := f.mgr.Knobs.Load().Get("net.inet.ipsec.dfbit"); v != 1 {
		t.Fatalf("dfbit %d after set", v)
	}
	// Invalid names or values change nothing, even next to valid ones.
	before := *f.mgr.Knobs.Load()
	for _, bad := range [][][2]string{
		{{"net.inet.ipsec.dfbit", "2"}, {"net.inet.ipsec.nosuch", "1"}},
		{{"net.inet.ipsec.dfbit", "0"}, {"net.inet.ipsec.def_policy", "7"}},
		{{"net.inet.ipsec.dfbit", "zero"}},
	} {
		if _, err := c.Do(Request{Op: OpSysctlSet, Set: bad}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if *f.mgr.Knobs.Load() != before {
		t.Fatal("a failed sysctl set changed knobs")
	}
	if _, err := c.Do(Request{Op: OpSysctlGet, Names: []string{"net.inet.ipsec.bogus"}}); err == nil || !strings.Contains(err.Error(), "unknown oid 'net.inet.ipsec.bogus'") {
		t.Errorf("unknown name: %v", err)
	}
	r, err = c.Do(Request{Op: OpSysctlList})
	if err != nil || len(r.Sysctl) < 20 || r.Sysctl[0].Doc == "" {
		t.Fatalf("list: %d knobs, %v", len(r.Sysctl), err)
	}
	if _, err := c.Do(Request{Op: "reboot"}); err == nil {
		t.Error("unknown operation accepted")
	}
	if f.logs.FilterMessage("admin: sysctl").Len() != 1 {
		t.Error("the change was not logged once")
	}
}

func TestStatsAndRules(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	r, err := c.Do(Request{Op: OpStats})
	if err != nil || r.Stats.Total.RxPackets != 7 || r.Stats.Ports[0].Name != "lan" || r.Stats.Ports[0].TxPackets != 3 {
		t.Fatalf("stats: %+v %v", r.Stats, err)
	}
	_, err = c.Do(Request{Op: OpEncSet, RulesName: "enc.rules", Rules: "drop in proto tcp\n# c\ndrop sideways\n"})
	if err == nil || !strings.Contains(err.Error(), "enc.rules:3: unexpected \"sideways\"") {
		t.Fatalf("bad rules: %v", err)
	}
	if rs, _ := f.ifc.Rules(); len(rs) != 0 {
		t.Fatal("a failed rule set was applied")
	}
	r, err = c.Do(Request{Op: OpEncSet, Rules: "drop in proto tcp\npass all\n"})
	if err != nil || len(r.Rules) != 2 || r.Rules[0].Rule != "drop in proto tcp" {
		t.Fatalf("set rules: %+v %v", r, err)
	}
	pool := pkt.NewPool("t", 4, 0)
	b := pool.Get()
	b.SetBytes(ipv4(6))
	b.Meta.L4Proto, b.Meta.L4Off = 6, 20
	f.tap.Pass(f.tap.Load(), b, &enc.Info{Dir: enc.DirIn})
	r, _ = c.Do(Request{Op: OpEncRules})
	if r.Rules[0].Hits != 1 || r.Rules[1].Hits != 0 {
		t.Fatalf("hits %+v", r.Rules)
	}
}

// ipv4 is a minimal IPv4 packet of protocol proto with a 4-byte payload.
func ipv4(proto uint8) []byte {
	p := make([]byte, 24)
	p[0], p[8], p[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(p[2:], 24)
	copy(p[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	return p
}

func TestCapture(t *testing.T) {
	f := newFixture(t, nil)
	pool := pkt.NewPool("t", 4, 0)
	b := pool.Get()
	b.SetBytes(ipv4(17))
	b.Meta.L4Proto, b.Meta.L4Off = 17, 20
	var stop atomic.Bool
	go func() { // a core sending through enc0
		for i := uint32(1); !stop.Load(); i++ {
			if v := f.tap.Load(); v != nil {
				f.tap.Pass(v, b, &enc.Info{Dir: enc.Dir(1 + i%2), SPI: i, Flags: enc.FlagConf})
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer stop.Store(true)
	var got []enc.Packet
	var started CaptureSummary
	sum, err := f.client(t).Capture(Request{Iface: "enc0", Count: 25, Snaplen: 22},
		func(s CaptureSummary) error { started = s; return nil },
		func(p *enc.Packet) error {
			q := *p
			q.Data = append([]byte(nil), p.Data...)
			got = append(got, q)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if started.LinkType != 109 || started.Snaplen != 22 {
		t.Errorf("start %+v", started)
	}
	if !sum.Done || sum.Packets != 25 || len(got) != 25 {
		t.Fatalf("summary %+v, %d packets", sum, len(got))
	}
	for _, p := range got {
		if len(p.Data) != 22 || p.OrigLen != 24 || p.Flags != enc.FlagConf || p.SPI == 0 {
			t.Fatalf("packet %+v", p)
		}
	}
	// The capture is gone once the stream ends.
	deadline := time.Now().Add(5 * time.Second)
	for f.tap.Load() != nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f.tap.Load() != nil {
		t.Fatal("capture still active after the stream ended")
	}
	// A client that goes away ends its capture too.
	c := f.client(t)
	n := 0
	_, err = c.Capture(Request{Iface: "enc0"}, nil, func(*enc.Packet) error {
		if n++; n == 3 {
			return fmt.Errorf("enough")
		}
		return nil
	})
	if err == nil || err.Error() != "enough" {
		t.Fatalf("early stop: %v", err)
	}
	for f.tap.Load() != nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f.tap.Load() != nil {
		t.Fatal("capture still active after the client left")
	}
	if _, err := f.client(t).Capture(Request{Iface: "eth0"}, nil, nil); err == nil {
		t.Fatal("capture on eth0 accepted")
	}
}

// peerScript connects to the socket, asks for a knob and prints the
// answer or "closed".
const peerScript = `
import socket, struct, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
req = json.dumps({"op": "sysctl.get", "names": ["net.inet.ipsec.dfbit"]}).encode()
try:
    s.sendall(struct.pack(">I", len(req) + 1) + b"J" + req)
    data = s.recv(4096)
except OSError:
    data = b""
print("answered" if data else "closed")
`

// TestPeerCredentials connects as uid 65534 (nobody) from a child process:
// refused (logged, disconnected) unless allowed by uid or gid.
func TestPeerCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to connect from a process with another uid")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	for _, tc := range []struct {
		name  string
		allow func(*Config)
		want  string
	}{
		{"refused", nil, "closed"},
		{"allowed-uid", func(c *Config) { c.AllowUIDs = []int{65534} }, "answered"},
		{"allowed-gid", func(c *Config) { c.AllowGIDs = []int{65534} }, "answered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				c.Mode = 0o666 // let the peer reach the credential check
				if tc.allow != nil {
					tc.allow(c)
				}
			})
			for d := filepath.Dir(f.path); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
				os.Chmod(d, 0o755)
			}
			cmd := exec.Command("/usr/bin/python3", "-c", peerScript, f.path)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("peer: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Fatalf("peer uid 65534: %s, want %s", got, tc.want)
			}
			refused := f.logs.FilterMessage("admin: refused peer").FilterField(zap.Int("uid", 65534)).Len()
			if (tc.want == "closed") != (refused == 1) {
				t.Errorf("refusals logged: %d", refused)
			}
		})
	}
}

func TestFrameLimits(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client(t)
	var h [5]byte
	binary.BigEndian.PutUint32(h[:], maxFrame+1)
	h[4] = kindJSON
	c.c.Write(h[:])
	if _, err := c.response(); err == nil {
		t.Fatal("oversized frame answered")
	}
	c2 := f.client(t)
	writeFrame(c2.c, kindJSON, []byte("{not json"))
	if _, err := c2.response(); err == nil || !strings.Contains(err.Error(), "bad request") {
		t.Fatalf("bad JSON: %v", err)
	}
}
