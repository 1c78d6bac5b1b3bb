// Package xformtest holds what the tests of the IPsec transforms (ESP, AH,
// IPComp) share: packet buffers classified as the engine would, test payloads,
// and the driver of the scapy cross-checks. Only tests import it.
package xformtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/pkt"
)

// Pool is the test binary's buffer pool.
var Pool = pkt.NewPool("xform-test", 4096, 0)

// Buf copies p into a fresh buffer with the default headroom, classified
// as the engine would (L4 hint).
func Buf(t testing.TB, p []byte) *pkt.Buf {
	t.Helper()
	b := Pool.Get()
	if b == nil {
		t.Fatal("test pool empty")
	}
	if !b.SetBytes(p) {
		t.Fatal("packet does not fit")
	}
	Classify(b)
	return b
}

// Classify sets the buffer's L4 hint from its IP header (chain).
func Classify(b *pkt.Buf) {
	data := b.Bytes()
	if len(data) == 0 {
		return
	}
	if data[0]>>4 == 4 && len(data) >= 20 {
		b.Meta.L4Proto, b.Meta.L4Off = data[9], uint16(int(data[0]&15)*4)
		return
	}
	if !hdr.IPv6(data).IsValid(len(data)) {
		return
	}
	if c, ok := hdr.IPv6(data).Walk(len(data)); ok {
		b.Meta.L4Proto, b.Meta.L4Off = c.Proto, uint16(c.Off)
	}
}

// Wire moves a packet to a fresh buffer as if it crossed a link.
func Wire(t testing.TB, b *pkt.Buf) *pkt.Buf {
	t.Helper()
	nb := Buf(t, b.Bytes())
	b.Free()
	return nb
}

// Free returns the buffers that are not nil to their pool.
func Free(bs ...*pkt.Buf) {
	for _, b := range bs {
		if b != nil {
			b.Free()
		}
	}
}

// FillUDP writes a UDP header (ports 40000 to 9, no checksum) and n bytes
// of patterned payload at u.
func FillUDP(u []byte, n int) {
	h := hdr.UDP(u)
	h.SetSrcPort(40000)
	h.SetDstPort(9)
	h.SetLength(8 + n)
	for i := range n {
		u[8+i] = byte(i*13 + 5)
	}
}

// ScapyTunnel is the outer header of a scapy tunnel-mode SA.
type ScapyTunnel struct {
	V   int    `json:"v"`
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// RunScapy runs the Python script under the system python3 (which has
// scapy), sends it the requests as JSON lines and returns its answer
// lines, one per request; it skips in short mode or without scapy.
func RunScapy[R any](t *testing.T, script string, reqs []R) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import scapy.layers.ipsec, cryptography").Run(); err != nil {
		t.Skip("python3 scapy (with cryptography) is not importable; install python3-scapy to run the scapy cross-check")
	}
	file := filepath.Join(t.TempDir(), "xform_check.py") // not scapy.py, which would shadow the module
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("/usr/bin/python3", file)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scapy: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(reqs) {
		t.Fatalf("scapy answered %d of %d requests\n%s", len(lines), len(reqs), stderr.String())
	}
	return lines
}
