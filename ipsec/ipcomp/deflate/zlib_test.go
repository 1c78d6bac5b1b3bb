package deflate

import (
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// zlibScript reads "xPAYLOAD xSTREAM" hex pairs and answers, per line,
// "ok N" when zlib inflates the raw stream (wbits -15) to the payload,
// N being the size of zlib's own level-1 stream with only the fixed codes
// (Z_FIXED), the same kind of stream as ours.
const zlibScript = `
import sys, zlib
for line in sys.stdin:
    src, stream = (bytes.fromhex(x[1:]) for x in line.split())
    try:
        d = zlib.decompressobj(-15)
        out = d.decompress(stream) + d.flush()
        if out != src or not d.eof:
            print("ERR differs", flush=True)
            continue
        c = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_FIXED)
        print("ok", len(c.compress(src) + c.flush()), flush=True)
    except Exception as e:
        print("ERR " + repr(e), flush=True)
`

// TestPythonZlib: python's zlib inflates our streams, which for packets
// are no bigger than zlib's fixed-code streams at level 1 (give or take
// 5%; past packet sizes the skipping over misses costs a little more).
func TestPythonZlib(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import zlib").Run(); err != nil {
		t.Skip("/usr/bin/python3 with zlib is not available")
	}
	type sample struct {
		name   string
		packet bool // up to 1500 bytes, where the sizes are compared
		stream int
	}
	var in strings.Builder
	var samples []sample
	e := NewEncoder()
	for _, kind := range payloadKinds {
		for _, n := range []int{0, 1, 100, 512, 1420, 9000} {
			src := payload(kind, n, uint64(n)+11)
			stream := encode(t, e, src)
			samples = append(samples, sample{kind + "/" + strconv.Itoa(n), n <= 1500, len(stream)})
			in.WriteString("x" + hex.EncodeToString(src) + " x" + hex.EncodeToString(stream) + "\n")
		}
	}
	cmd := exec.Command("/usr/bin/python3", "-c", zlibScript)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(samples) {
		t.Fatalf("python answered %d lines for %d streams", len(lines), len(samples))
	}
	for i, s := range samples {
		f := strings.Fields(lines[i])
		if len(f) != 2 || f[0] != "ok" {
			t.Errorf("%s: python: %s", s.name, lines[i])
			continue
		}
		z, _ := strconv.Atoi(f[1])
		t.Logf("%s: %d bytes, zlib Z_FIXED level 1: %d", s.name, s.stream, z)
		if s.packet && s.stream > z+z/20+2 {
			t.Errorf("%s: %d bytes, zlib with fixed codes: %d", s.name, s.stream, z)
		}
	}
}
