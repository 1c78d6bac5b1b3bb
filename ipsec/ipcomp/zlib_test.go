package ipcomp

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/stats"
)

// zlibScript inflates (op "d") or deflates (op "c") raw deflate streams
// (wbits -15, RFC 1951 as RFC 2394 wants), one hex blob per line.
const zlibScript = `
import sys, zlib
for line in sys.stdin:
    op, data = line.split()
    data = bytes.fromhex(data)
    try:
        if op == "d":
            d = zlib.decompressobj(-15)
            out = d.decompress(data) + d.flush()
        else:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            out = c.compress(data) + c.flush()
        print(out.hex(), flush=True)
    except Exception as e:
        print("ERR " + repr(e), flush=True)
`

// TestPythonZlib: python's zlib inflates what we send, and we decapsulate
// IPComp packets whose payload python's zlib deflated.
func TestPythonZlib(t *testing.T) {
	for _, c := range compressors {
		t.Run(c.name, func(t *testing.T) { testPythonZlib1(t, c.opt) })
	}
}

func testPythonZlib1(t *testing.T, opt Options) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import zlib").Run(); err != nil {
		t.Skip("/usr/bin/python3 with zlib is not available")
	}
	p, q := NewProcessor(), NewProcessor()
	sa := newSA(t, saOpts{tunnel: true})
	var inners, ours [][]byte
	var in strings.Builder
	for i, n := range []int{200, 700, 1400} {
		inner := udp4("10.1.0.1", "10.2.0.2", 0, payload(n, false, uint64(i)))
		b := buf(t, inner)
		if r := encap1(p, b, sa, opt); r != stats.ReasonNone || b.Meta.L4Proto != hdr.ProtoIPComp {
			t.Fatalf("encap %v", r)
		}
		w := b.Bytes()
		ours = append(ours, append([]byte(nil), w[24:]...))
		b.Free()
		inners = append(inners, inner)
		in.WriteString("d " + hex.EncodeToString(ours[i]) + "\n")
		in.WriteString("c " + hex.EncodeToString(inner) + "\n")
	}
	cmd := exec.Command("/usr/bin/python3", "-c", zlibScript)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2*len(inners) {
		t.Fatalf("python answered %d lines", len(lines))
	}
	for i, inner := range inners {
		got, err := hex.DecodeString(lines[2*i])
		if err != nil || !bytes.Equal(got, inner) {
			t.Errorf("python inflates our stream %d to %q (%v)", i, lines[2*i], err)
		}
		stream, err := hex.DecodeString(lines[2*i+1])
		if err != nil {
			t.Fatalf("python deflate: %s", lines[2*i+1])
		}
		b := buf(t, ipcompPacket(hdr.ProtoIPIP, CPIDeflate, stream))
		if r := decap1(q, b, sa, opt); r != stats.ReasonNone || !bytes.Equal(b.Bytes(), inner) {
			t.Errorf("python's stream %d: %v", i, r)
		}
		b.Free()
	}
}
