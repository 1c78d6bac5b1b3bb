package pcap

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// udp4 returns an IPv4/UDP packet 10.0.0.1:1000 -> 10.0.0.2:2000 with
// the given payload.
func udp4(payload []byte) []byte {
	p := make([]byte, 28, 28+len(payload))
	p[0], p[8], p[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p[2:], uint16(28+len(payload)))
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	sum = sum>>16 + sum&0xffff
	sum += sum >> 16
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], 1000)
	binary.BigEndian.PutUint16(p[22:], 2000)
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	return append(p, payload...)
}

// TestCrossCheck has tcpdump and tshark, when installed, read files our
// Writer made.
func TestCrossCheck(t *testing.T) {
	ip := udp4([]byte("ping"))
	eth := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}, ip...)
	files := map[LinkType][]byte{LinkTypeEthernet: eth, LinkTypeRaw: ip}
	tools := 0
	for _, tool := range [][]string{
		{"tcpdump", "-nn", "-tt", "-r"},
		{"tshark", "-n", "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.dstport", "-r"},
	} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			t.Logf("%s not installed: skipping its check", tool[0])
			continue
		}
		tools++
		for lt, data := range files {
			path := filepath.Join(t.TempDir(), lt.String()+".pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := NewWriter(f, lt)
			w.WritePacket(1_700_000_000_123_456_000, data)
			w.WritePacket(1_700_000_001_000_000_000, data)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out, err := exec.Command(tool[0], append(tool[1:], path)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s on %v file: %v\n%s", tool[0], lt, err, out)
			}
			s := string(out)
			t.Logf("%s on %v file:\n%s", tool[0], lt, s)
			if !strings.Contains(s, "1700000000.123456") || !strings.Contains(s, "10.0.0.1") ||
				strings.Count(s, "2000") < 2 {
				t.Errorf("%s on %v file:\n%s", tool[0], lt, s)
			}
		}
	}
	if tools == 0 {
		t.Skip("neither tcpdump nor tshark is installed")
	}
}
