package admin

import (
	"bytes"
	"testing"

	"github.com/fastipsec/fastipsec/ipsec/enc"
)

// FuzzFrame feeds arbitrary bytes to the frame reader and the packet
// decoder: errors, never panics; a decoded packet encodes back the same.
func FuzzFrame(f *testing.F) {
	var b bytes.Buffer
	writeJSON(&b, Request{Op: OpSysctlGet, Names: []string{"net.inet.ipsec.dfbit"}})
	f.Add(b.Bytes())
	b.Reset()
	writeFrame(&b, kindPacket, appendPacket(nil, &enc.Packet{Time: 1, Dir: enc.DirIn, SPI: 7, OrigLen: 4, Data: []byte{0x45, 0, 0, 4}}))
	f.Add(b.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'J'})
	f.Fuzz(func(t *testing.T, data []byte) {
		kind, payload, _, err := readFrame(bytes.NewReader(data), nil)
		if err != nil || kind != kindPacket {
			return
		}
		p, err := parsePacket(payload)
		if err != nil {
			return
		}
		if again := appendPacket(nil, &p); !bytes.Equal(again, payload) {
			t.Fatalf("packet %x re-encodes as %x", payload, again)
		}
	})
}
