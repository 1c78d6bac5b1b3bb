package pcap

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNgWriterRoundTrip reads back what NgWriter wrote, and has tcpdump
// read it when installed.
func TestNgWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewNgWriter(&buf, LinkTypeRaw, "enc0")
	pkts := [][]byte{udp4(make([]byte, 0)), udp4(make([]byte, 33)), udp4(make([]byte, 72))}
	for i, p := range pkts {
		var err error
		if i == 1 {
			err = w.WritePacket(int64(i+1)*1e9+5000, DirOutbound, p[:3], p[3:], len(p))
		} else {
			err = w.WritePacket(int64(i+1)*1e9+5000, DirInbound, nil, p, len(p)+10)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 2048)
	for i, p := range pkts {
		n, rec, err := r.Next(dst)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		wantOrig := len(p) + 10
		if i == 1 {
			wantOrig = len(p)
		}
		if !bytes.Equal(dst[:n], p) || rec.LinkType != LinkTypeRaw || rec.Time != int64(i+1)*1e9+5000 || rec.OrigLen != wantOrig {
			t.Errorf("packet %d: %x %+v", i, dst[:n], rec)
		}
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed (make deps installs it)")
	}
	path := filepath.Join(t.TempDir(), "x.pcapng")
	os.WriteFile(path, buf.Bytes(), 0o644)
	out, err := exec.Command("tcpdump", "-nr", path).CombinedOutput()
	if err != nil || strings.Count(string(out), "IP ") != 3 {
		t.Fatalf("tcpdump: %v\n%s", err, out)
	}
}
